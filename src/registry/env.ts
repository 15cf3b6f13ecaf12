// `${env:NAME}` and `${env:NAME|default}` in YAML string values, resolved at load.
// `$${env:...}` escapes the substitution and yields the literal `${env:...}`.

export type Env = Record<string, string | undefined>;

export interface Substitution {
  value: string;
  /** True when at least one placeholder was replaced (the value came from the environment). */
  substituted: boolean;
  /** One message per placeholder that could not be resolved. */
  errors: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

const OPEN = "${env:";

export function substituteEnv(text: string, env: Env): Substitution {
  if (!text.includes(OPEN)) return { value: text, substituted: false, errors: [] };
  let value = "";
  let substituted = false;
  const errors: string[] = [];
  let position = 0;
  while (position < text.length) {
    const start = text.indexOf(OPEN, position);
    if (start < 0) {
      value += text.slice(position);
      break;
    }
    const escaped = start > 0 && text[start - 1] === "$";
    value += text.slice(position, escaped ? start - 1 : start);
    const end = text.indexOf("}", start);
    if (end < 0) {
      errors.push(`unterminated "${OPEN}" in "${text}" (write \${env:NAME} or \${env:NAME|default})`);
      value += text.slice(start);
      break;
    }
    const placeholder = text.slice(start, end + 1);
    position = end + 1;
    if (escaped) {
      value += placeholder;
      continue;
    }
    const body = text.slice(start + OPEN.length, end);
    const bar = body.indexOf("|");
    const name = (bar < 0 ? body : body.slice(0, bar)).trim();
    const fallback = bar < 0 ? undefined : body.slice(bar + 1);
    if (!isEnvName(name)) {
      errors.push(`"${placeholder}" does not name a valid environment variable (letters, digits and _, not starting with a digit)`);
      continue;
    }
    const found = env[name];
    if (found !== undefined) {
      value += found;
    } else if (fallback !== undefined) {
      value += fallback;
    } else {
      errors.push(`environment variable ${name} is not set (set it, or give a default: \${env:${name}|value})`);
      continue;
    }
    substituted = true;
  }
  return { value, substituted, errors };
}
