// Prints a Jenkinsfile's declarative structure as JSON: every directive or step call becomes
// {"name", "args", "children"}; nested blocks are evaluated against the same recorder. Groovy itself
// parses and runs the file, so the tests look at what Jenkins would see, not at regexes.
// Usage: groovy jenkinsfile_model.groovy Jenkinsfile
import groovy.json.JsonOutput

class Ref {
    // `params.X`, `env.X`, `WORKSPACE`: kept symbolic as "${params.X}".
    String path
    Ref(String path) { this.path = path }
    def propertyMissing(String name) { new Ref(path + '.' + name) }
    String toString() { '${' + path + '}' }
}

class Recorder {
    List<Map> nodes = []

    static Object plain(Object x) {
        if (x instanceof Map) { return x.collectEntries { k, v -> [(k.toString()): plain(v)] } }
        if (x instanceof List) { return x.collect { plain(it) } }
        if (x instanceof GString || x instanceof Ref) { return x.toString() }
        return x
    }

    def methodMissing(String name, Object args) {
        Map node = [name: name, args: [], children: []]
        for (x in (args as Object[])) {
            if (x instanceof Closure) {
                Recorder child = new Recorder()
                Closure body = (Closure) x.clone()
                body.resolveStrategy = Closure.DELEGATE_FIRST
                body.delegate = child
                Object result = body.call()
                node.children = child.nodes
                if (result instanceof Ref || result instanceof Boolean) { node.value = plain(result) }
            } else if (x instanceof Map && nodes.any { it.is(x) }) {
                // a nested call such as buildDiscarder(logRotator(...)): move it into its parent
                nodes.removeAll { it.is(x) }
                node.args << x
            } else {
                node.args << plain(x)
            }
        }
        nodes << node
        return node
    }

    def propertyMissing(String name) { new Ref(name) }
}

// The Jenkinsfile runs as a script of this base class, so top-level helper methods (`def withX(body)`)
// compile as they do in Jenkins; every unknown call (pipeline, stage, sh, ...) is recorded. Inside the
// recorded blocks, calls of those helpers are recorded like any step, with their block's children.
abstract class JenkinsfileScript extends Script {
    static Recorder root = new Recorder()
    def methodMissing(String name, Object args) { root.methodMissing(name, args) }
    def propertyMissing(String name) { new Ref(name) }
}

String text = new File(args[0]).text
def config = new org.codehaus.groovy.control.CompilerConfiguration()
config.scriptBaseClass = JenkinsfileScript.name
new GroovyShell(this.class.classLoader, new Binding(), config).evaluate(text)
println JsonOutput.toJson(JenkinsfileScript.root.nodes)
