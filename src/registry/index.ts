// Public surface of the registry: load YAML definition files into typed entries.
export * from "./types.ts";
export { RegistryError, formatIssue, displayPath } from "./errors.ts";
export type { RegistryIssue } from "./errors.ts";
export { loadRegistry } from "./load.ts";
export type { LoadOptions } from "./load.ts";
export type { RegistryCache } from "./cache.ts";
export { validateDocuments } from "./validate.ts";
export type { SourceDocument, ValidationContext, ValidationResult } from "./validate.ts";
export { parseDuration, parseSize } from "./units.ts";
export type { UnitResult } from "./units.ts";
export { substituteEnv, isEnvName } from "./env.ts";
export type { Env, Substitution } from "./env.ts";
export { resolveProject, findProjectRoot, LOCK_FILE } from "./project.ts";
export type { ProjectLayout, ProjectOptions, ProjectResult } from "./project.ts";
export { ENTRY_KINDS } from "./kinds.ts";
export { qualifyReference } from "./ids.ts";
