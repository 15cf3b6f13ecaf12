// One set of supervision rules (supervisors/rules.ts) for YAML and for trees
// built in code: the same defaults, the same checks, the same message after
// the field name (YAML spells fields snake_case, code camelCase).

import { describe, expect, it } from "vitest";
import { validateDocuments } from "../src/registry/index.ts";
import type { ProcessServiceEntry, ProcessSupervisorEntry } from "../src/registry/types.ts";
import {
  DEFAULT_INTENSITY, DEFAULT_PERIOD_MS, DEFAULT_RESTART, DEFAULT_STOP_TIMEOUT_MS, normalizeSupervisor, SupervisorSpecError, YAML_FIELD,
  type ServiceChildInput, type RuleField, type SupervisorInput,
} from "../supervisors/index.ts";
import { BASE } from "./registries/cases.ts";

const CODE_FIELD: Record<RuleField, string> = {
  policy: "restart.policy", initialDelay: "restart.initialDelay", maxDelay: "restart.maxDelay", backoffFactor: "restart.backoffFactor",
  jitter: "restart.jitter", maxAttempts: "restart.maxAttempts", strategy: "strategy", intensity: "intensity", period: "period", stopTimeout: "stopTimeout",
  placement: "placement",
};

function validateYaml(entries: string) {
  const result = validateDocuments(
    [{ file: "src/base.yaml", text: BASE }, { file: "src/app.yaml", text: `namespace: myns\nentries:\n${entries}` }],
    { root: "/proj", src: "/proj/src", env: {} },
  );
  return result;
}

/** The YAML path: a service with `lifecycle: { restart: {…}, stop_timeout }` or a supervisor with settings; field → message. */
function yamlProblems(yaml: string): Map<string, string> {
  return new Map(validateYaml(yaml).issues.map((issue) => [issue.field ?? "", issue.message]));
}

/** The code path: normalizeSupervisor; field → message (the part after "<where>: <field> "). */
function codeProblems(input: SupervisorInput): Map<string, string> {
  try {
    normalizeSupervisor(input);
    return new Map();
  } catch (err) {
    expect(err).toBeInstanceOf(SupervisorSpecError);
    return new Map((err as SupervisorSpecError).problems.map((p) => {
      const match = /^supervisor s(?:: children\[0\] \(c\))?: (\S+) (.*)$/.exec(p);
      expect(match, p).not.toBeNull();
      return [match![1]!, match![2]!];
    }));
  }
}

const service = (restart: string, extra = "") =>
  `  - name: s\n    kind: process.service\n    process: worker\n    host: host\n    lifecycle: { restart: { ${restart} }${extra} }\n`;
const child = (extra: Partial<ServiceChildInput>): SupervisorInput => ({ id: "s", children: [{ id: "c", process: "p", host: "h", ...extra }] });

interface BadRestart {
  name: string;
  yaml: string;
  code: ServiceChildInput["restart"];
  field: RuleField;
  message: string;
}

const BAD_RESTARTS: BadRestart[] = [
  {
    name: "initial delay above max delay",
    yaml: "initial_delay: 2s, max_delay: 1s", code: { initialDelay: "2s", maxDelay: 1000 }, field: "initialDelay",
    message: "(2000ms) must not exceed the maximum delay (1000ms); raise the maximum delay or lower the initial delay",
  },
  {
    name: "initial delay alone above the default max delay (code used to raise maxDelay silently)",
    yaml: "initial_delay: 40s", code: { initialDelay: 40_000 }, field: "initialDelay",
    message: "(40000ms) must not exceed the maximum delay (30000ms); raise the maximum delay or lower the initial delay",
  },
  { name: "unknown policy", yaml: "policy: always", code: "always" as never, field: "policy", message: '"always" is not one of permanent, transient, temporary' },
  { name: "policy not a string", yaml: "policy: 3", code: { policy: 3 as never }, field: "policy", message: "must be one of permanent, transient, temporary (got the number 3)" },
  { name: "backoff factor below 1", yaml: "backoff_factor: 0.5", code: { backoffFactor: 0.5 }, field: "backoffFactor", message: "must be a number >= 1 (got the number 0.5)" },
  { name: "jitter above 1", yaml: "jitter: 2", code: { jitter: 2 }, field: "jitter", message: "must be a number from 0 to 1 (got the number 2)" },
  { name: "max attempts 0", yaml: "max_attempts: 0", code: { maxAttempts: 0 }, field: "maxAttempts", message: "must be a positive integer (got the number 0)" },
  { name: "max attempts not whole", yaml: "max_attempts: 1.5", code: { maxAttempts: 1.5 }, field: "maxAttempts", message: "must be a positive integer (got the number 1.5)" },
  {
    name: "delay with an unknown unit", yaml: "max_delay: 5x", code: { maxDelay: "5x" }, field: "maxDelay",
    message: 'must be a duration like "250ms", "5s", "2m", "1h" or a number of milliseconds (got "5x")',
  },
  {
    name: "negative delay", yaml: "initial_delay: -1", code: { initialDelay: -1 }, field: "initialDelay",
    message: 'must be a duration like "250ms", "5s", "2m", "1h" or a number of milliseconds, not negative (got -1)',
  },
];

describe("restart settings: the YAML and the code path agree, message for message", () => {
  it.each(BAD_RESTARTS)("$name", ({ yaml, code, field, message }) => {
    const fromYaml = yamlProblems(service(yaml));
    const fromCode = codeProblems(child({ restart: code }));
    expect([...fromYaml]).toEqual([[`lifecycle.restart.${YAML_FIELD[field]}`, message]]);
    expect([...fromCode]).toEqual([[CODE_FIELD[field], message]]);
  });

  it("durations with units are accepted in code as in YAML, with the same result", () => {
    const entry = validateYaml(service("initial_delay: 250ms, max_delay: 1m, backoff_factor: 3, jitter: 0, max_attempts: 4", ", stop_timeout: 2s"))
      .entries.get("myns:s") as ProcessServiceEntry;
    const spec = normalizeSupervisor(child({ restart: { initialDelay: "250ms", maxDelay: "1m", backoffFactor: 3, jitter: 0, maxAttempts: 4 }, stopTimeout: "2s" }));
    const expected = { policy: "permanent", initialDelay: 250, maxDelay: 60_000, backoffFactor: 3, jitter: 0, maxAttempts: 4 };
    expect(entry.restart).toEqual(expected);
    expect(spec.children[0]!.restart).toEqual(expected);
    expect(entry.stopTimeout).toBe(2000);
    expect(spec.children[0]!.stopTimeout).toBe(2000);
  });

  it("a bad stop timeout gets the same message", () => {
    const message = 'must be a duration like "250ms", "5s", "2m", "1h" or a number of milliseconds (got "soon")';
    const yaml = validateYaml(`  - name: s\n    kind: process.service\n    process: worker\n    host: host\n    lifecycle: { stop_timeout: soon }\n`).issues;
    expect(yaml.map((i) => [i.field, i.message])).toEqual([["lifecycle.stop_timeout", message]]);
    expect([...codeProblems(child({ stopTimeout: "soon" }))]).toEqual([["stopTimeout", message]]);
  });

  it("a bad placement gets the same message; the default is local in both", () => {
    const yaml = validateYaml(`  - name: s\n    kind: process.service\n    process: worker\n    host: host\n    placement: everywhere\n`).issues;
    const code = [...codeProblems(child({ placement: "everywhere" as never }))];
    expect(yaml.map((i) => [i.field, i.message])).toEqual([["placement", code[0]![1]]]);
    expect(code).toEqual([["placement", expect.stringMatching(/local.*any/)]]);
    expect((validateYaml(service("")).entries.get("myns:s") as ProcessServiceEntry).placement).toBe("local");
    expect((normalizeSupervisor(child({})).children[0] as { placement: string }).placement).toBe("local");
    expect((normalizeSupervisor(child({ placement: "any" })).children[0] as { placement: string }).placement).toBe("any");
  });

  it("an unknown restart key is refused in code as in YAML", () => {
    expect([...yamlProblems(service("initial_dealy: 5"))]).toEqual([["lifecycle.restart.initial_dealy", 'unknown field (did you mean "initial_delay"?)']]);
    expect([...codeProblems(child({ restart: { initialDealy: 5 } as never }))]).toEqual([["restart.initialDealy", 'unknown field (did you mean "initialDelay"?)']]);
  });

  it("the defaults are the same", () => {
    const entry = validateYaml(service("")).entries.get("myns:s") as ProcessServiceEntry;
    const spec = normalizeSupervisor(child({}));
    expect(entry.restart).toEqual(DEFAULT_RESTART);
    expect(spec.children[0]!.restart).toEqual(DEFAULT_RESTART);
    expect(entry.stopTimeout).toBe(DEFAULT_STOP_TIMEOUT_MS);
    expect(spec.children[0]!.stopTimeout).toBe(DEFAULT_STOP_TIMEOUT_MS);
  });
});

describe("supervisor settings: the YAML and the code path agree", () => {
  const supervisor = (settings: string) => `  - name: s\n    kind: process.supervisor\n${settings}`;

  it('period "5s" is 5000 ms in both; a plain number is milliseconds in both; defaults match', () => {
    const yaml = (text: string) => validateYaml(supervisor(text)).entries.get("myns:s") as ProcessSupervisorEntry;
    expect(yaml("    period: 5s\n").period).toBe(5000);
    expect(yaml("    period: 5000\n").period).toBe(5000);
    expect(normalizeSupervisor({ id: "s", period: "5s", children: [] }).period).toBe(5000);
    expect(normalizeSupervisor({ id: "s", period: 5000, children: [] }).period).toBe(5000);
    expect(yaml("")).toMatchObject({ strategy: "one_for_one", intensity: DEFAULT_INTENSITY, period: DEFAULT_PERIOD_MS });
    expect(normalizeSupervisor({ id: "s", children: [] })).toMatchObject({ strategy: "one_for_one", intensity: DEFAULT_INTENSITY, period: DEFAULT_PERIOD_MS });
  });

  it.each([
    ["period", "    period: 0\n", { period: 0 }, "must be greater than zero (got the number 0)"],
    ["period", "    period: soon\n", { period: "soon" }, 'must be a duration like "250ms", "5s", "2m", "1h" or a number of milliseconds (got "soon")'],
    ["intensity", "    intensity: -1\n", { intensity: -1 }, "must be an integer >= 0 (got the number -1)"],
    ["intensity", "    intensity: 1.5\n", { intensity: 1.5 }, "must be an integer >= 0 (got the number 1.5)"],
    ["strategy", "    strategy: one_for_some\n", { strategy: "one_for_some" as never }, '"one_for_some" is not one of one_for_one, one_for_all, rest_for_one (did you mean "one_for_one"?)'],
  ] as const)("%s: %j", (field, yaml, code, message) => {
    expect([...yamlProblems(supervisor(yaml))]).toEqual([[field, message]]);
    expect([...codeProblems({ id: "s", children: [], ...code })]).toEqual([[field, message]]);
  });
});
