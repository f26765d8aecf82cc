#!/usr/bin/env python3
"""Tests over the evaluated derivations of the flake (against nix/tests/nixpkgs-stub).

"It evaluates" proves little: a store path in cargo's flags or a lost RUSTFLAGS evaluates
fine. This reads the attributes that decide what a real build does, with `nix eval --json`,
and asserts them:

- every bootstrap (x86_64, aarch64 native, aarch64 cross): cargo's arguments end in
  `--package faas-runtime --bin bootstrap`, the target triple is <arch>-unknown-linux-musl
  from a static package set,
  the rustflags cargo applies (RUSTFLAGS replaces .cargo/config.toml's) hold
  `relocation-model=static` and `+crt-static`, the strip is full, allowedReferences = [ ],
  meta.mainProgram is "bootstrap";
- every derivation that compiles jemalloc: fortify hardening is off, or jemalloc's opt-level
  (from Cargo.toml, for each cargo profile the derivation builds with) is above 0;
- every image: config (Entrypoint, User, Env, ExposedPorts, label names, source, created)
  equal to images/scratch.Dockerfile's or images/alpine.Dockerfile's final stage, parsed here;
  `created` equal to the Dockerfile's CREATED; architecture amd64 or arm64 as its bootstrap.

- every Lambda zip: written by `faas-check zip` (as images/build-zip.sh writes it) over the
  bootstrap of its CPU (for ours: exactly packages.<system>.bootstrap / bootstrap-aarch64);
- the checks each flake must have (ours; a user's kit: image-size with the budget,
  zip-contents, startup-time, invocation, and the arm64 ones);
- the bootstrap's source set: the runtime and the workspace members' manifests, not the
  check programs' sources nor the scripts (editing them must not rebuild the bootstrap).

Usage: nix/tests/attributes.py ROOT STUB_PATH                  (this flake)
       nix/tests/attributes.py ROOT STUB_PATH --template DIR   (a flake made by `nix flake init -t`)
Prints PASS/FAIL lines, exits 1 on a failure.
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

failures = 0
passes = 0


def check(name, ok, detail=""):
    global failures, passes
    if ok:
        passes += 1
        print(f"PASS  {name}")
    else:
        failures += 1
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))


def nix_eval(flake, overrides, attr, apply):
    cmd = ["nix", "eval", "--json", *overrides, "--no-write-lock-file", f"{flake}#{attr}", "--apply", apply]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        lines = [line for line in run.stderr.splitlines() if "warning:" not in line]
        raise RuntimeError(f"nix eval {attr} failed:\n" + "\n".join(lines[-25:]))
    return json.loads(run.stdout)


# What the tests read from each kind of output. Derivations are reduced to plain data here,
# so that a wrong type (a derivation where a string belongs) shows as a wrong value below.
PACKAGE_FACTS = """
ps: builtins.mapAttrs (system: builtins.mapAttrs (name: d:
  { drvPath = d.drvPath; NIX_HARDENING_ENABLE = d.NIX_HARDENING_ENABLE or ""; }
  // (if d ? stubHooks then {
    kind = "rust";
    inherit (d) cargoBuildFlags cargoBuildType;
    allowedReferences = d.allowedReferences or null;
    target = d.target or null;
    isStatic = d.isStatic or null;
    mainProgram = d.meta.mainProgram;
    hooks = d.stubHooks;
    src = "${d.src}";
  } else if d ? zipCommand then {
    kind = "zip"; buildCommand = d.buildCommand; zipCommand = d.zipCommand;
    bootstrapDrv = d.bootstrap.drvPath; bootstrapTarget = d.bootstrap.target;
    tools = map (t: t.name) d.nativeBuildInputs;
  } else if d ? conf then {
    kind = "image"; name = d.imageName; baseJson = d.conf.baseJson; created = d.conf.created;
  } else if d ? stream then {
    kind = "image"; name = d.imageName; baseJson = d.stream.conf.baseJson; created = d.stream.conf.created;
  } else { kind = "other"; }))) ps
"""

CHECK_FACTS = """
cs: builtins.mapAttrs (system: builtins.mapAttrs (name: d: {
  drvPath = d.drvPath;
  NIX_HARDENING_ENABLE = d.NIX_HARDENING_ENABLE or "";
  vendorsCrates = d ? cargoDeps && d.cargoDeps != null;
  cargoBuildType = d.cargoBuildType or null;
  buildPhase = d.buildPhase or "";
  budget = d.budget or null;
  binary = d.binary or null;
  function = d.function or null;
})) cs
"""

SHELL_FACTS = """
ss: builtins.mapAttrs (system: builtins.mapAttrs (name: d: {
  drvPath = d.drvPath;
  NIX_HARDENING_ENABLE = d.NIX_HARDENING_ENABLE or "";
})) ss
"""


def dockerfile_final_stage(path):
    """The final stage's ENTRYPOINT, USER, ENV, EXPOSE, LABELs (ARG defaults substituted)."""
    text = Path(path).read_text()
    logical, cur = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not cur and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    last_from = max(i for i, line in enumerate(logical) if line.upper().startswith("FROM "))
    args, cfg = {}, {"Labels": {}, "Env": [], "ExposedPorts": {}}

    def subst(value):
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), ""), value)

    def pairs(rest):
        return [(k, subst(v.strip('"'))) for k, v in re.findall(r'([\w.\-]+)=("[^"]*"|\S+)', rest)]

    for line in logical[last_from + 1:]:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "ARG":
            name, _, default = rest.strip().partition("=")
            args[name] = default.strip('"')
        elif word == "LABEL":
            cfg["Labels"].update(pairs(rest))
        elif word == "ENV":
            cfg["Env"] += [f"{k}={v}" for k, v in pairs(rest)]
        elif word == "EXPOSE":
            for port in rest.split():
                cfg["ExposedPorts"][port if "/" in port else port + "/tcp"] = {}
        elif word == "USER":
            cfg["User"] = rest.strip()
        elif word == "ENTRYPOINT":
            cfg["Entrypoint"] = json.loads(rest)
    cfg["created"] = args.get("CREATED")
    return cfg


def jemalloc_opt_level(cargo_toml, profile):
    """jemalloc's opt-level in a cargo profile: the package override, else the profile's."""
    profiles = cargo_toml.get("profile", {})
    # The test profile inherits dev; a custom profile names what it inherits.
    chain = {"test": ["test", "dev"], "bench": ["bench", "release"]}.get(profile, [profile])
    for p in chain:
        section = profiles.get(p, {})
        pkg = section.get("package", {})
        for key in ("tikv-jemalloc-sys", "*"):
            if "opt-level" in pkg.get(key, {}):
                return pkg[key]["opt-level"]
        if "opt-level" in section:
            return section["opt-level"]
    return 0 if chain[-1] == "dev" else 3


def cargo_profiles(build_phase):
    """The cargo profiles a check's build phase compiles with (`--release` or dev)."""
    profiles = set()
    for line in build_phase.splitlines():
        m = re.search(r"\bcargo\s+(build|test|clippy|check|run|bench)\b", line)
        if not m:
            continue
        if "--release" in line or m.group(1) == "bench":
            profiles.add("release")
        else:
            profiles.add("test" if m.group(1) == "test" else "dev")
    return profiles


FAAS = {
    "package": "faas-runtime", "binary": "bootstrap",
    "bootstraps": {("x86_64-linux", "bootstrap"): "x86_64", ("aarch64-linux", "bootstrap"): "aarch64",
                   ("x86_64-linux", "bootstrap-aarch64"): "aarch64"},
    "zips": {("x86_64-linux", "zip"): ("x86_64", "bootstrap"), ("aarch64-linux", "zip"): ("aarch64", "bootstrap"),
             ("x86_64-linux", "zip-aarch64"): ("aarch64", "bootstrap-aarch64")},
    "images": {"faas-runtime": "images/scratch.Dockerfile",
               "faas-runtime-alpine-equivalent": "images/alpine.Dockerfile"},
    "min_images": 10,
    "checks": ["image-size", "image-lambda", "image-lambda-alpine-equivalent", "zip-contents", "startup-time", "invocation-tests", "cargo-test", "clippy", "rustfmt", "nix-format"],
    "labels_from_dockerfile": ("org.opencontainers.image.source", "org.opencontainers.image.created"),
    "budget": 1048576,
    "shells": True,
}

# A function instantiated from templates/default (`nix flake init -t`): its crate is
# `my-function`; its images follow images/scratch.Dockerfile's contract except the labels'
# values (the user's); both systems build an arm64 zip and image as well.
TEMPLATE = {
    "package": "my-function", "binary": "my-function",
    "bootstraps": {("x86_64-linux", "bootstrap"): "x86_64", ("aarch64-linux", "bootstrap"): "aarch64"},
    "zips": {(s, z): (a, None) for s in ("x86_64-linux", "aarch64-linux")
             for z, a in (("zip", s.split("-")[0]), ("zip-aarch64", "aarch64"))},
    "images": {"my-function": "images/scratch.Dockerfile"},
    "min_images": 8,
    "checks": ["image-size", "image-lambda", "zip-contents", "startup-time", "invocation", "image-size-aarch64",
               "image-lambda-aarch64", "zip-contents-aarch64"],
    "labels_from_dockerfile": ("org.opencontainers.image.created",),
    "budget": 1048576,
    "shells": False,
}


def test_flake(root, flake, overrides, spec):
    cargo_toml_path = Path(flake.removeprefix("path:")) / "Cargo.toml" if flake.startswith("path:") else root / "Cargo.toml"
    cargo_toml = tomllib.loads(cargo_toml_path.read_text())
    lock = cargo_toml_path.with_name("Cargo.lock").read_text()
    uses_jemalloc = 'name = "tikv-jemalloc-sys"' in lock
    dockerfiles = {name: dockerfile_final_stage(root / path) for name, path in spec["images"].items()}

    try:
        packages = nix_eval(flake, overrides, "packages", PACKAGE_FACTS)
        checks = nix_eval(flake, overrides, "checks", CHECK_FACTS)
        shells = nix_eval(flake, overrides, "devShells", SHELL_FACTS) if spec["shells"] else {}
    except RuntimeError as e:
        check("evaluate packages, checks and devShells", False, str(e))
        return

    package, binary = spec["package"], spec["binary"]
    cargo_args = ["--package", package, "--bin", binary]
    for (system, name), arch in spec["bootstraps"].items():
        d = packages.get(system, {}).get(name)
        label = f"packages.{system}.{name}"
        if d is None or d["kind"] != "rust":
            check(f"{label} exists and is a Rust build", False, "missing")
            continue
        hooks = d["hooks"]
        check(f"{label}: cargo builds {' '.join(cargo_args)}",
              hooks["cargoArgs"][-4:] == cargo_args and d["cargoBuildFlags"] == cargo_args,
              f"cargoBuildFlags {d['cargoBuildFlags']}")
        triple = f"{arch}-unknown-linux-musl"
        check(f"{label}: target {triple}",              d["target"] == triple and "--target" in hooks["cargoArgs"]
              and hooks["cargoArgs"][hooks["cargoArgs"].index("--target") + 1] == triple,
              f"target {d['target']}, cargo {hooks['cargoArgs']}")
        check(f"{label}: built by a static package set (pkgsStatic)", d["isStatic"] is True, str(d["isStatic"]))
        flags = " ".join(hooks["rustflags"])
        check(f"{label}: rustflags cargo applies hold relocation-model=static and +crt-static",
              re.search(r"relocation-model=static\b", flags) is not None and "+crt-static" in flags,
              f"rustflags [{flags}]")
        check(f"{label}: release profile", d["cargoBuildType"] == "release", d["cargoBuildType"])
        check(f"{label}: full strip (strip -s)", hooks["strip"] == "all",
              f"strip {hooks['strip']} (cargo's own strip is off: CARGO_PROFILE_RELEASE_STRIP=false)")
        check(f"{label}: allowedReferences = [ ]", d["allowedReferences"] == [], str(d["allowedReferences"]))
        check(f"{label}: meta.mainProgram = \"{binary}\"", d["mainProgram"] == binary, str(d["mainProgram"]))
        if package == "faas-runtime":
            src = Path(d["src"])
            held = {p: (src / p).exists() for p in ("runtime/src/lib.rs", "checks/Cargo.toml", "checks/peers/ours/Cargo.toml",
                                                    "checks/src", "checks/tests", "checks/container-tests.sh")}
            check(f"{label}: source holds the runtime and the members' manifests, no check sources or scripts",
                  held["runtime/src/lib.rs"] and held["checks/Cargo.toml"] and held["checks/peers/ours/Cargo.toml"]
                  and not held["checks/src"] and not held["checks/tests"] and not held["checks/container-tests.sh"],
                  str(held))

    # Hardening: fortify with jemalloc at -O0 breaks jemalloc's configure.
    def fortify(d):
        return bool({"fortify", "fortify3"} & set(d["NIX_HARDENING_ENABLE"].split()))

    compiling = []  # (label, facts, profiles)
    for system, ps in packages.items():
        for name, d in ps.items():
            if d["kind"] == "rust":
                compiling.append((f"packages.{system}.{name}", d, {d["cargoBuildType"]}))
    for system, cs in checks.items():
        for name, d in cs.items():
            profiles = cargo_profiles(d["buildPhase"]) if d["vendorsCrates"] else set()
            if d["cargoBuildType"]:
                profiles.add(d["cargoBuildType"])
            if profiles:
                compiling.append((f"checks.{system}.{name}", d, profiles))
    for system, ss in shells.items():
        for name, d in ss.items():
            # A contributor's `cargo build`, `cargo test`, `cargo build --release`.
            compiling.append((f"devShells.{system}.{name}", d, {"dev", "test", "release"}))
    check("the derivations compiling jemalloc are found (bootstraps; ours: cargo-test, clippy, shells)",
          not uses_jemalloc or (sum(1 for label, _, p in compiling if "dev" in p or "test" in p) >= 4 if spec["shells"]
                                else len(compiling) >= len(spec["bootstraps"])),
          ", ".join(label for label, _, _ in compiling))
    for label, d, profiles in compiling:
        if not uses_jemalloc:
            break
        levels = {p: jemalloc_opt_level(cargo_toml, p) for p in sorted(profiles)}
        unoptimised = [p for p, level in levels.items() if str(level) == "0"]
        check(f"{label}: jemalloc never at -O0 under fortify ({', '.join(f'{p} opt-level {v}' for p, v in levels.items())})",
              not (fortify(d) and unoptimised),
              f"fortify on and jemalloc at opt-level 0 in profile(s) {unoptimised}: "
              "set [profile.dev.package.tikv-jemalloc-sys] opt-level, or hardeningDisable = [ \"fortify\" ]")

    # Images.
    arch_of = {"x86_64-linux": "amd64", "aarch64-linux": "arm64"}
    images = [(system, name, d) for system, ps in packages.items() for name, d in ps.items() if d["kind"] == "image"]
    check(f"images found (at least {spec['min_images']}: each variant, both forms, both systems, aarch64)",
          len(images) >= spec["min_images"], ", ".join(f"{s}.{n}" for s, n, _ in images))
    for system, name, d in images:
        label = f"packages.{system}.{name}"
        base = json.loads(d["baseJson"])
        cfg = base["config"]
        want = dockerfiles.get(d["name"])
        if want is None:
            check(f"{label}: has a Dockerfile counterpart", False, f"image name {d['name']}")
            continue
        arch = "arm64" if name.endswith(("-aarch64", "-aarch64-tarball")) else arch_of[system]
        check(f"{label}: architecture {arch}, os linux", base.get("architecture") == arch and base.get("os") == "linux",
              f"{base.get('architecture')}/{base.get('os')}")
        for key in ("Entrypoint", "User", "Env", "ExposedPorts"):
            check(f"{label}: {key} as in the Dockerfile", cfg.get(key) == want[key], f"{cfg.get(key)!r} != {want[key]!r}")
        labels = cfg.get("Labels", {})
        check(f"{label}: the Dockerfile's label names", sorted(labels) == sorted(want["Labels"]),
              f"{sorted(labels)} != {sorted(want['Labels'])}")
        for key in spec["labels_from_dockerfile"]:
            check(f"{label}: label {key} as in the Dockerfile", labels.get(key) == want["Labels"].get(key),
                  f"{labels.get(key)!r} != {want['Labels'].get(key)!r}")
        revision = labels.get("org.opencontainers.image.revision", "")
        check(f"{label}: revision label is the flake's revision", revision == "dirty" or re.fullmatch(r"[0-9a-f]{40}", revision),
              revision)
        check(f"{label}: created = the Dockerfile's CREATED ({want['created']})", d["created"] == want["created"], d["created"])

    # Zips: `faas-check zip` (the program images/build-zip.sh runs) over the bootstrap of the
    # right CPU; where the flake has that bootstrap as a package, exactly that derivation.
    build_zip = (root / "images/build-zip.sh").read_text()
    for (system, name), (arch, bootstrap_name) in spec["zips"].items():
        label = f"packages.{system}.{name}"
        d = packages.get(system, {}).get(name)
        if d is None or d["kind"] != "zip":
            check(f"{label} exists and is a Lambda zip", False, "missing" if d is None else d["kind"])
            continue
        triple = f"{arch}-unknown-linux-musl"
        check(f"{label}: holds the {triple} bootstrap", d["bootstrapTarget"] == triple, d["bootstrapTarget"])
        if bootstrap_name:
            want = packages.get(system, {}).get(bootstrap_name, {}).get("drvPath")
            check(f"{label}: holds packages.{system}.{bootstrap_name}", d["bootstrapDrv"] == want,
                  f"{d['bootstrapDrv']} != {want}")
        check(f"{label}: written by `faas-check zip --out` as images/build-zip.sh writes it",
              "faas-check zip --out" in d["buildCommand"] and '"faas-check" zip --out' in build_zip.replace('$target_dir/release/', '')
              and any(t.startswith("faas-checks") for t in d["tools"]),
              f"tools {d['tools']}")

    # Checks: each expected one exists on both systems; image-size holds the budget.
    for system in ("x86_64-linux", "aarch64-linux"):
        have = checks.get(system, {})
        missing = [c for c in spec["checks"] if c not in have]
        check(f"checks.{system}: {', '.join(spec['checks'])}", not missing, f"missing {missing}")
        for name, d in have.items():
            if name.startswith("image-size"):
                check(f"checks.{system}.{name}: budget {spec['budget']} compressed bytes",
                      str(d["budget"]) == str(spec["budget"]), str(d["budget"]))


def main():
    root, stub = Path(sys.argv[1]).resolve(), sys.argv[2]
    if len(sys.argv) == 5 and sys.argv[3] == "--template":
        # A flake instantiated from templates/default: its faas-runtime input is this tree,
        # and nixpkgs (which follows faas-runtime's) the stub.
        # A git checkout as git sees it (not its target/); a plain copy as it is.
        tree = f"git+file://{root}" if (root / ".git").exists() else f"path:{root}"
        overrides = ["--override-input", "faas-runtime", tree,
                     "--override-input", "faas-runtime/nixpkgs", f"path:{stub}"]
        test_flake(root, f"path:{Path(sys.argv[4]).resolve()}", overrides, TEMPLATE)
    else:
        test_flake(root, str(root), ["--override-input", "nixpkgs", f"path:{stub}"], FAAS)


if __name__ == "__main__":
    main()
    print(f"attributes: {passes} passed, {failures} failed")
    sys.exit(1 if failures else 0)
