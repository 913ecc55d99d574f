from swarmops.cli import main

main()
