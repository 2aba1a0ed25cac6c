// Parse Mermaid diagrams with Mermaid's own parser, as GitHub and Azure DevOps do before drawing.
// Usage: node check.mjs FILE.mmd... ; prints "FILE: ok TYPE" or "FILE: ERROR ..." per file, exit 1 on any error.
import fs from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(fs.readFileSync(file, "utf8"));
    console.log(`${file}: ok ${result.diagramType}`);
  } catch (error) {
    failed += 1;
    console.log(`${file}: ERROR ${String(error.message || error).split("\n").join(" | ")}`);
  }
}
process.exit(failed ? 1 : 0);
