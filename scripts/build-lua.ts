// Builds build/lua/lua.wasm: Lua 5.4 for wasm32-wasi with our `process` and `time`
// modules (lua/*.c), the interpreter every process.lua entry runs on.
//
//   npm run build:lua            # fetch (once), verify, build (skipped when up to date)
//   npm run build:lua -- --force # rebuild even when up to date
//
// Sources: `apt-get source lua5.4` (the version pinned in lua/sources.json) through an
// apt configuration of our own under build/lua/apt (its own deb-src list, state and
// cache; the system's apt configuration is neither read nor changed). Every file is
// checked against the SHA-256 pinned in lua/sources.json before it is unpacked. Only
// Debian's two CVE patches are applied (its others concern the .so build and paths).
// Needs: clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 (and apt-get, tar, patch).
// Lua's licence (MIT, from lua.h) is written next to the binary as LICENSE-lua.txt.

import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "build", "lua");
const OURS = join(ROOT, "lua");
const INSTALL = "apt-get install -y clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32";

interface Pins {
  package: string;
  version: string;
  archive: string;
  suite: string;
  keyring: string;
  files: Record<string, string>;
  patches: Record<string, string>;
}

const pins = JSON.parse(readFileSync(join(OURS, "sources.json"), "utf8")) as Pins;
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

// Lua's own sources: warnings are upstream's business; ours build with -Werror.
const COMMON = [
  "--target=wasm32-wasi", "-O2",
  "-mllvm", "-wasm-enable-sjlj", // setjmp/longjmp (Lua's error handling) over wasm exceptions
  "-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS", // lstate.h includes signal.h; os.clock uses clock()
  "-DLUA_COMPAT_5_3", // as upstream's Makefile
];
const LINK = ["-Wl,--strip-debug", "-lwasi-emulated-signal", "-lwasi-emulated-process-clocks"];

function fail(message: string): never {
  console.error(`build:lua: ${message}`);
  process.exit(1);
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const res = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (res.error) fail(`${cmd} could not run: ${res.error.message}`);
  if (res.status !== 0) fail(`${cmd} ${args.slice(0, 3).join(" ")}… failed (status ${res.status}):\n${res.stderr || res.stdout}`);
  return res.stdout;
}

/** The pinned source files in build/lua/apt/sources, fetched through our own apt configuration when missing or wrong. */
function fetchSources(): string {
  const apt = join(OUT, "apt");
  const sources = join(apt, "sources");
  const verified = () => Object.entries(pins.files).every(([file, hash]) => existsSync(join(sources, file)) && sha256(readFileSync(join(sources, file))) === hash);
  if (verified()) return sources;
  if (!findOnPath("apt-get")) fail("apt-get not found: the Lua sources come from Debian's archive (apt-get source)");
  if (!existsSync(pins.keyring)) fail(`${pins.keyring} not found: install debian-archive-keyring`);
  for (const d of ["etc/sources.list.d", "etc/preferences.d", "etc/apt.conf.d", "state/lists/partial", "cache/archives/partial"]) mkdirSync(join(apt, d), { recursive: true });
  rmSync(sources, { recursive: true, force: true });
  mkdirSync(sources);
  writeFileSync(join(apt, "etc", "sources.list"), `deb-src [signed-by=${pins.keyring}] ${pins.archive} ${pins.suite} main\n`);
  const options = [
    `Dir::Etc=${join(apt, "etc")}`,
    `Dir::Etc::sourcelist=${join(apt, "etc", "sources.list")}`,
    `Dir::Etc::sourceparts=${join(apt, "etc", "sources.list.d")}`,
    `Dir::Etc::preferencesparts=${join(apt, "etc", "preferences.d")}`,
    `Dir::Etc::parts=${join(apt, "etc", "apt.conf.d")}`,
    `Dir::State=${join(apt, "state")}`,
    "Dir::State::status=/dev/null",
    `Dir::Cache=${join(apt, "cache")}`,
    "Debug::NoLocking=1", // our own state dir: no lock on the system's
    "APT::Sandbox::User=root", // download as the caller (a root CI has no _apt-owned dir here)
  ].flatMap((o) => ["-o", o]);
  // APT_CONFIG=/dev/null: the system's apt.conf is not read either
  const env = { ...process.env, APT_CONFIG: "/dev/null" };
  console.log(`build:lua: apt-get update (private configuration in ${apt})`);
  run("apt-get", [...options, "-qq", "update"], { env });
  console.log(`build:lua: apt-get source --download-only ${pins.package}=${pins.version}`);
  const res = spawnSync("apt-get", [...options, "-qq", "source", "--download-only", `${pins.package}=${pins.version}`], { cwd: sources, env, encoding: "utf8" });
  if (res.status !== 0) {
    fail(`apt-get source ${pins.package}=${pins.version} failed:\n${res.stderr}` +
      `If Debian has replaced this version, update version and hashes in lua/sources.json (and check the patches).`);
  }
  for (const [file, hash] of Object.entries(pins.files)) {
    const path = join(sources, file);
    if (!existsSync(path)) fail(`apt-get source did not give ${file}`);
    const actual = sha256(readFileSync(path));
    if (actual !== hash) fail(`${file}: sha256 ${actual}, pinned ${hash} in lua/sources.json; refusing to build from it`);
  }
  return sources;
}

/** Unpacks the pinned tarball and applies the pinned patches; returns the Lua src/ folder. */
function unpack(sources: string, work: string): string {
  const orig = Object.keys(pins.files).find((f) => f.endsWith(".orig.tar.gz"))!;
  const debian = Object.keys(pins.files).find((f) => f.endsWith(".debian.tar.xz"))!;
  run("tar", ["-xzf", join(sources, orig), "-C", work]);
  run("tar", ["-xJf", join(sources, debian), "-C", work]);
  const tree = readdirSync(work).find((d) => d.startsWith("lua-"));
  if (!tree) fail(`${orig} holds no lua-* folder`);
  for (const [patch, hash] of Object.entries(pins.patches)) {
    const path = join(work, "debian", "patches", patch);
    if (!existsSync(path)) fail(`${debian} has no debian/patches/${patch}`);
    const actual = sha256(readFileSync(path));
    if (actual !== hash) fail(`${patch}: sha256 ${actual}, pinned ${hash} in lua/sources.json`);
    run("patch", ["-p1", "--quiet", "-i", path], { cwd: join(work, tree) });
  }
  return join(work, tree, "src");
}

/** Everything the binary depends on, so an unchanged tree is not rebuilt. */
function inputsStamp(clang: string): string {
  const h = createHash("sha256");
  h.update(readFileSync(join(OURS, "sources.json")));
  for (const dir of [OURS, join(OURS, "include"), join(ROOT, "include", "wippy")]) {
    for (const f of readdirSync(dir).sort()) if (/\.[ch]$/.test(f)) h.update(f).update(readFileSync(join(dir, f)));
  }
  h.update(JSON.stringify([COMMON, LINK])).update(run(clang, ["--version"]));
  return h.digest("hex");
}

/** Lua's licence: the notice at the end of lua.h. */
function licence(luaSrc: string): string {
  const header = readFileSync(join(luaSrc, "lua.h"), "utf8");
  const m = /\* (Copyright \(C\)[\s\S]*?SOFTWARE\.)/.exec(header);
  if (!m?.[1]) fail("lua.h carries no licence notice");
  const text = m[1].split("\n").map((l) => l.replace(/^\* ?/, "")).join("\n");
  return `Lua ${pins.version} (Debian ${pins.package}), built into lua.wasm, is under the MIT licence:\n\n${text}\n`;
}

function main(): void {
  const clang = findOnPath("clang-19");
  const ld = findOnPath("wasm-ld-19");
  if (!clang || !ld) fail(`${!clang ? "clang-19" : "wasm-ld-19"} not found on PATH; install: ${INSTALL}`);
  if (!existsSync("/usr/include/wasm32-wasi/stdio.h") && !existsSync("/usr/share/wasi-sysroot")) fail(`wasi-libc not found; install: ${INSTALL}`);
  mkdirSync(OUT, { recursive: true });
  const stamp = inputsStamp(clang);
  const stampFile = join(OUT, "lua.wasm.inputs");
  const wasm = join(OUT, "lua.wasm");
  if (!process.argv.includes("--force") && existsSync(wasm) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
    console.log(`build:lua: ${wasm} is up to date (sha256:${sha256(readFileSync(wasm))})`);
    return;
  }
  const started = performance.now();
  const sources = fetchSources();
  const work = mkdtempSync(join(tmpdir(), "wippy-lua-"));
  try {
    const luaSrc = unpack(sources, work);
    const objects = join(work, "obj");
    mkdirSync(objects);
    // Determinism: clang runs any wasm-opt it finds on PATH after linking, so it gets a PATH
    // holding only an empty folder and the linker by absolute path (as build-fixtures.ts).
    const env = { ...process.env, PATH: objects };
    const luaFiles = readdirSync(luaSrc).filter((f) => f.endsWith(".c") && f !== "lua.c" && f !== "luac.c").sort();
    const ourFiles = readdirSync(OURS).filter((f) => f.endsWith(".c")).sort();
    const includes = [`-I${join(OURS, "include")}`, `-I${luaSrc}`, `-I${join(ROOT, "include")}`];
    run(clang, [...COMMON, ...includes, "-include", join(OURS, "include", "wasi_compat.h"), "-c", ...luaFiles.map((f) => join(luaSrc, f))], { cwd: objects, env });
    run(clang, [...COMMON, "-Wall", "-Wextra", "-Werror", ...includes, "-c", ...ourFiles.map((f) => join(OURS, f))], { cwd: objects, env });
    const objectFiles = readdirSync(objects).filter((f) => f.endsWith(".o")).sort();
    run(clang, [...COMMON, `-fuse-ld=${ld}`, ...objectFiles, ...LINK, "-o", "lua.wasm"], { cwd: objects, env });
    copyFileSync(join(objects, "lua.wasm"), wasm);
    writeFileSync(join(OUT, "LICENSE-lua.txt"), licence(luaSrc));
    writeFileSync(stampFile, stamp);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const bytes = readFileSync(wasm);
  console.log(`build:lua: sha256:${sha256(bytes)}  build/lua/lua.wasm  (${bytes.length} bytes, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main();
