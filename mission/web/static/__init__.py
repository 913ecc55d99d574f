"""Static files of the mission page (a package so that wheels include them)."""
