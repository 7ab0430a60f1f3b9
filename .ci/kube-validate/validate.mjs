// Validates the Kubernetes manifests of deploy/kubernetes without a cluster:
//  1. kustomization.yaml lists every manifest in the directory, and each listed file exists;
//  2. every object is checked against the OpenAPI schema of its kind (kubernetes-models and
//     @kubernetes-models/prometheus-operator bundle them): required fields, types, enums;
//  3. every object is type-checked by TypeScript against the same models, which rejects what
//     the schemas let through: an unknown (misspelt) field anywhere, as kubectl --validate=strict.
// Usage: node validate.mjs DIR. Exits 1 and names file, object and field on the first problems.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.argv[2] ?? "deploy/kubernetes");
const problems = [];

function modulePath(apiVersion, kind) {
  if (!apiVersion.includes("/")) return `kubernetes-models/${apiVersion}/${kind}`;
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function parse(file) {
  const docs = parseAllDocuments(readFileSync(join(dir, file), "utf8"));
  const out = [];
  for (const doc of docs) {
    // The first YAML error of a document; the ones after it mostly follow from it.
    const [first] = [...doc.errors, ...doc.warnings];
    if (first) problems.push(`${file}: ${first.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

// 1. The kustomization and the directory agree.
const [kustomization] = parse("kustomization.yaml");
const listed = kustomization?.resources ?? [];
const present = readdirSync(dir).filter(f => f.endsWith(".yaml") && f !== "kustomization.yaml");
for (const f of listed) if (!existsSync(join(dir, f))) problems.push(`kustomization.yaml: ${f} does not exist`);
for (const f of present) if (!listed.includes(f)) problems.push(`kustomization.yaml: ${f} is not in resources`);

// 2. Schemas.
const objects = [];
for (const file of listed.filter(f => existsSync(join(dir, f)))) {
  for (const obj of parse(file)) {
    const name = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      problems.push(`${name}: no apiVersion or kind`);
      continue;
    }
    const path = modulePath(obj.apiVersion, obj.kind);
    let model;
    try {
      model = (await import(path))[obj.kind];
    } catch (e) {
      problems.push(`${name}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new model(obj).validate();
    } catch (e) {
      problems.push(`${name}: ${e.message}`);
    }
    objects.push({ name, path, obj });
  }
}

// 3. Unknown fields, through TypeScript's excess property check on object literals.
const checkDir = join(here, ".check");
mkdirSync(checkDir, { recursive: true });
const source = join(checkDir, "manifests.ts");
const lines = [];
objects.forEach(({ path, obj }, i) => {
  lines.push(`import type { I${obj.kind} as T${i} } from "${path}";`);
  lines.push(`export const o${i}: T${i} = ${JSON.stringify(obj)};`);
});
writeFileSync(source, lines.join("\n") + "\n");
const program = ts.createProgram([source], {
  noEmit: true, strict: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
});
for (const d of ts.getPreEmitDiagnostics(program)) {
  const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
  let where = "";
  if (d.file && d.start !== undefined) {
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const obj = objects[Math.floor(line / 2)];
    where = obj ? obj.name : d.file.fileName;
  }
  problems.push(`${where}: ${text}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`deploy/kubernetes: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`deploy/kubernetes: ${objects.length} objects valid (schemas and field names)`);
