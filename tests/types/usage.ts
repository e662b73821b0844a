// Compiled with `tsc --noEmit` against the generated declarations: if the package's types
// drift from how an app uses them, the test command fails. The @ts-expect-error lines fail
// the build if a type decays to `any`.
import { version } from "vestibule";

const info = version();
const name: "vestibule" = info.name;
// @ts-expect-error BuildInfo has no such field; an `any` return type would accept it.
info.notAField;
export default `${name}@${info.version}`;
