// Writes pkg/package.json from the pkg.json overlay, taking the version from Cargo.toml so
// the npm package and the crate always carry the same version.
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const cargo = readFileSync(new URL("Cargo.toml", root), "utf8");
const version = cargo.match(/^version\s*=\s*"([^"]+)"/m)?.[1];
if (!version) throw new Error("no version in Cargo.toml [package]");
const overlay = JSON.parse(readFileSync(new URL("pkg.json", root), "utf8"));
const manifest = { name: overlay.name, version, ...overlay };
writeFileSync(new URL("pkg/package.json", root), JSON.stringify(manifest, null, 2) + "\n");
