// Evaluates a .gitlab-ci.yml's workflow:rules with gitlab-ci-local's own rule evaluator, because
// gitlab-ci-local 4.65.1 applies job rules but ignores workflow:rules.
// stdin: {"rules": [...], "cases": [{VAR: value, ...}, ...]}; stdout: ["always" | "never" | ..., ...].
// argv[2]: gitlab-ci-local's package directory (`npm root -g`/gitlab-ci-local).
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const { Utils } = await import(pathToFileURL(path.join(process.argv[2], "src", "utils.js")).href);
const { rules, cases } = JSON.parse(fs.readFileSync(0, "utf8"));
const results = cases.map((variables) => {
  for (const rule of rules) {
    if (Utils.evaluateRuleIf(rule.if, variables)) {
      return rule.when ?? "always";
    }
  }
  return "never"; // GitLab: no matching workflow rule means no pipeline
});
process.stdout.write(JSON.stringify(results));
