// Strict offline schema validation of Kubernetes objects with the validators that the
// `kubernetes-models` package generates from the Kubernetes OpenAPI definitions.
//
// Usage: node validate-schema.mjs < objects.json   (a JSON array of objects)
//
// The generated validators check types, enums, formats and required fields, but like the
// OpenAPI schema itself they accept unknown fields. `kubeconform -strict` and the API
// server's strict field validation reject them, and a typo such as `readinessProbes:`
// would otherwise pass silently. So every object is wrapped in a Proxy that records each
// property the validator reads: the validator reads every property its schema declares
// (and every key of a map), so a key it never read is not in the schema.
// (Free-form fields such as a RawExtension would need an exception; none of our objects
// has one.) Prints one `ok - ...` / `not ok - ...` line per object and exits 1 on any failure.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const modelsRoot = dirname(require.resolve("kubernetes-models/package.json", {
  paths: [process.env.NODE_MODULES_PARENT || process.cwd()],
}));

async function validatorFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const modelFile = group === "" ? join(modelsRoot, version, `${kind}.js`) : join(modelsRoot, group, version, `${kind}.js`);
  let source;
  try {
    source = readFileSync(modelFile, "utf8");
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind} in kubernetes-models`);
  }
  const match = source.match(/import\{validate\}from"([^"]+)"/);
  if (!match) throw new Error(`cannot find the validator of ${apiVersion} ${kind} in ${modelFile}`);
  const schemaFile = join(dirname(modelFile), match[1]);
  const { validate } = await import(pathToFileURL(schemaFile).href);
  return validate;
}

// Wraps value (deeply) in Proxies that record the keys the validator reads.
function track(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const read = new Set();
  const children = Array.isArray(value) ? value.map((v, i) => track(v, `${path}/${i}`, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, track(v, `${path}/${k}`, seen)]));
  if (!Array.isArray(value)) seen.push({ path, keys: Object.keys(value), read });
  return new Proxy(children, {
    get(target, prop, receiver) {
      if (typeof prop === "string") read.add(prop);
      return Reflect.get(target, prop, receiver);
    },
  });
}

function describe(obj) {
  return `${obj?.kind ?? "?"} ${obj?.metadata?.namespace ? obj.metadata.namespace + "/" : ""}${obj?.metadata?.name ?? "?"}`;
}

async function validateObject(obj) {
  const problems = [];
  if (!obj || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    return ["apiVersion and kind must be strings"];
  }
  const validate = await validatorFor(obj.apiVersion, obj.kind);
  const seen = [];
  const tracked = track(obj, "", seen);
  if (!validate(tracked)) {
    for (const e of validate.errors ?? []) {
      problems.push(`${e.instancePath || "/"}: ${e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
  const unknown = [];
  for (const { path, keys, read } of seen) {
    for (const key of keys) if (!read.has(key)) unknown.push(`${path}/${key}`);
  }
  // Report an unknown field once, not every field below it.
  for (const u of unknown) {
    if (!unknown.some((other) => u.startsWith(`${other}/`))) problems.push(`${u}: unknown field`);
  }
  return problems;
}

async function main() {
  const objects = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(objects) || objects.length === 0) {
    console.log("not ok - input is not a non-empty JSON array of objects");
    process.exit(1);
  }
  let failed = 0;
  for (const obj of objects) {
    let problems;
    try {
      problems = await validateObject(obj);
    } catch (err) {
      problems = [err.message];
    }
    if (problems.length === 0) {
      console.log(`ok - ${describe(obj)} matches the ${obj.apiVersion} schema strictly`);
    } else {
      failed++;
      console.log(`not ok - ${describe(obj)}:`);
      for (const p of problems) console.log(`    ${p}`);
    }
  }
  process.exit(failed === 0 ? 0 : 1);
}

main();
