// TwiML text -> typed verbs. Bad XML or a wrong root fails the document (12100, 12102, 12101); anything
// else wrong inside <Response> is a warning and the offending verb or attribute is skipped, as on Twilio.
import { ErrorCodes } from "../errors/codes.js";
import { fail } from "../errors/switchboard-error.js";
import type { TwimlElement } from "./element.js";
import { MAX_WARNINGS } from "./limits.js";
import { verbDefinition } from "./registry.js";
import type { TwimlDocument, TwimlWarning, Verb } from "./verb-data.js";
import type { ParseContext } from "./verb-definition.js";
import { checkAttributes } from "./verb-parsing.js";
import { readXml } from "./xml.js";

/**
 * Parses a TwiML document fetched from `documentUrl` (relative URLs in it resolve against that).
 * Throws SwitchboardError 12100 for malformed XML, 12102 when the root is not <Response> and 12101
 * when its `version` is not a TwiML version.
 */
export function parseTwiml(xml: string, documentUrl: string): TwimlDocument {
  const root = readXml(xml, documentUrl);
  if (root.name !== "Response") {
    throw fail("invalidRoot", `The root element must be <Response>, not <${root.name}> (${documentUrl})`);
  }
  const verbs: Verb[] = [];
  const warnings: TwimlWarning[] = [];
  // Each warning becomes a stored notification: past MAX_WARNINGS they are only counted.
  let unshown = 0;
  const contextFor = (el: TwimlElement): ParseContext => ({
    documentUrl,
    warn(code, message, at = el) {
      if (warnings.length < MAX_WARNINGS) warnings.push({ code, message, line: at.line, column: at.column });
      else unshown++;
    },
  });

  const responseContext = contextFor(root);
  // Twilio still reads the old `<Response version>`: an API version it does not know fails the
  // document (12101); a known one is no schema problem.
  const version = root.attributes.version;
  if (version !== undefined && !TWIML_VERSIONS.includes(version)) {
    throw fail(
      "invalidXmlVersion",
      `<Response version="${version}"> is not a TwiML version (${documentUrl})`,
    );
  }
  // Namespace declarations are XML plumbing, not TwiML attributes.
  checkAttributes(
    root,
    [...Object.keys(root.attributes).filter(isNamespaceDeclaration), "version"],
    responseContext,
  );
  for (const child of root.children) {
    if (typeof child === "string") {
      if (child.trim() !== "")
        responseContext.warn(schema, "<Response> holds text outside any verb; ignored");
      continue;
    }
    const definition = verbDefinition(child.name);
    if (definition === undefined) {
      // Names are case-sensitive: <say> lands here too.
      responseContext.warn(schema, `<${child.name}> is not a TwiML verb; skipped`, child);
      continue;
    }
    const verb = definition.parse(child, contextFor(child));
    if (verb !== undefined) verbs.push(verb);
  }
  if (unshown > 0) {
    warnings.push({
      code: schema,
      message: `${unshown} more warning${unshown === 1 ? "" : "s"} in this document not shown (at most ${MAX_WARNINGS} are kept)`,
    });
  }
  return { verbs, warnings };
}

const schema = ErrorCodes.schemaValidation.code;
/** The API versions a `<Response version>` may name. */
const TWIML_VERSIONS = ["2008-08-01", "2010-04-01"];

function isNamespaceDeclaration(name: string): boolean {
  return name === "xmlns" || name.startsWith("xmlns:");
}
