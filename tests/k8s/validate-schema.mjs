// Strict offline schema validation of Kubernetes objects with the validators that the
// `kubernetes-models` package generates from the Kubernetes OpenAPI definitions.
//
// Usage: node validate-schema.mjs [--crds crds.json] < objects.json   (JSON arrays of objects)
//
// Kinds that Kubernetes does not define (TargetGroupBinding) are validated against the
// openAPIV3Schema of their CustomResourceDefinition: the CRDs vendored in tests/k8s/crds/
// (read through python3 and PyYAML, which the suite needs anyway), or a JSON array of CRDs
// given with --crds. The API server prunes unknown fields of a custom resource silently, or
// rejects them with kubectl's default strict field validation ("Strict: This will fail the
// request with a BadRequest error if any unknown or duplicate fields are set", Kubernetes
// API concepts, "Field validation"); either way a misspelled `targetGroupArn` never reaches
// the controller. So every object schema with `properties` is closed here
// (additionalProperties false) unless it says x-kubernetes-preserve-unknown-fields. Only the
// versions the CRD serves are accepted; metadata is checked as an ObjectMeta.
//
// The generated validators check types, enums, formats and required fields, but like the
// OpenAPI schema itself they accept unknown fields. `kubeconform -strict` and the API
// server's strict field validation reject them, and a typo such as `readinessProbes:`
// would otherwise pass silently. So every object is wrapped in a Proxy that records each
// property the validator reads: the validator reads every property its schema declares
// (and every key of a map), so a key it never read is not in the schema.
// (Free-form fields such as a RawExtension would need an exception; none of our objects
// has one.) Prints one `ok - ...` / `not ok - ...` line per object and exits 1 on any failure.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const modelsRoot = dirname(require.resolve("kubernetes-models/package.json", {
  paths: [process.env.NODE_MODULES_PARENT || process.cwd()],
}));
// Resolved as kubernetes-models resolves them: the JSON Schema validator it validates with
// (ajv, through @kubernetes-models/validate) and the ObjectMeta schema of its apimachinery.
const requireFromModels = createRequire(join(modelsRoot, "package.json"));
const apimachineryRoot = dirname(requireFromModels.resolve("@kubernetes-models/apimachinery/package.json"));
const Ajv = requireFromModels("ajv").default;

// openAPIV3Schema of a CRD -> JSON Schema that rejects unknown fields like the API server.
function closeSchema(node) {
  if (Array.isArray(node)) return node.map(closeSchema);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "description" || key.startsWith("x-kubernetes-") || key === "nullable") continue;
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closeSchema(v)]));
    } else if (key === "items" || key === "additionalProperties" || key === "not") {
      out[key] = closeSchema(value);
    } else if (key === "anyOf" || key === "allOf" || key === "oneOf") {
      out[key] = value.map(closeSchema);
    } else {
      out[key] = value;
    }
  }
  if (node.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (node.properties && !("additionalProperties" in node) && node["x-kubernetes-preserve-unknown-fields"] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

// The vendored CRDs (tests/k8s/crds/*.yaml) as a JSON array.
function vendoredCrds() {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "crds");
  const script = "import glob, json, sys, yaml\n" +
    "docs = [d for f in sorted(glob.glob(sys.argv[1] + '/*.yaml')) for d in yaml.safe_load_all(open(f)) if d]\n" +
    "print(json.dumps(docs))";
  return JSON.parse(execFileSync("python3", ["-c", script, dir], { encoding: "utf8", maxBuffer: 64 << 20 }));
}

// Map "group/version kind" -> { validate } or { unserved } from a JSON array of CRDs.
function loadCrds(file) {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: Number.isInteger });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  const byKind = new Map();
  for (const crd of file ? JSON.parse(readFileSync(file, "utf8")) : vendoredCrds()) {
    if (crd.kind !== "CustomResourceDefinition") throw new Error(`${file}: ${crd.kind} is not a CustomResourceDefinition`);
    for (const version of crd.spec.versions) {
      const key = `${crd.spec.group}/${version.name} ${crd.spec.names.kind}`;
      if (!version.served) {
        byKind.set(key, { unserved: true });
        continue;
      }
      const schema = closeSchema(version.schema.openAPIV3Schema);
      // metadata is `type: object` in every CRD; the ObjectMeta validator checks it instead.
      schema.properties.metadata = { type: "object" };
      byKind.set(key, { validate: ajv.compile(schema) });
    }
  }
  return byKind;
}

const crdsArg = process.argv.indexOf("--crds");
const crdKinds = loadCrds(crdsArg === -1 ? null : process.argv[crdsArg + 1]);

async function objectMetaValidator() {
  const file = join(apimachineryRoot, "_schemas", "IoK8sApimachineryPkgApisMetaV1ObjectMeta.js");
  const { validate } = await import(pathToFileURL(file).href);
  return validate;
}

// A custom resource: its CRD's schema for the body, the ObjectMeta schema for metadata.
async function crdValidatorFor(apiVersion, kind) {
  const entry = crdKinds.get(`${apiVersion} ${kind}`);
  if (!entry) return null;
  if (entry.unserved) throw new Error(`${apiVersion} ${kind}: the CRD does not serve this version`);
  const validateMeta = await objectMetaValidator();
  const validate = (obj) => {
    const ok = entry.validate(obj);
    const errors = [...(entry.validate.errors ?? [])];
    if (!validateMeta(obj.metadata)) {
      errors.push(...(validateMeta.errors ?? []).map((e) => ({ ...e, instancePath: `/metadata${e.instancePath}` })));
    }
    validate.errors = errors;
    return ok && errors.length === 0;
  };
  // The CRD schema checks unknown fields itself; only metadata needs the read-tracking below.
  validate.trackOnly = "/metadata";
  return validate;
}

async function validatorFor(apiVersion, kind) {
  const custom = await crdValidatorFor(apiVersion, kind);
  if (custom) return custom;
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
    if (validate.trackOnly && path !== validate.trackOnly && !path.startsWith(`${validate.trackOnly}/`)) continue;
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
