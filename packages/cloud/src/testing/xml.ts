/** A minimal XML writer for the fake EC2's responses. */

export type XmlNode = string | number | boolean | null | undefined | XmlNode[] | { [tag: string]: XmlNode };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' })[c]};`);
}

/**
 * Renders `{ tag: value }` maps as elements in key order; arrays inside a map become repeated
 * `<item>` children of the key's element (EC2's list shape); null and undefined are left out.
 */
export function renderXml(node: XmlNode): string {
  if (node === null || node === undefined) return '';
  if (typeof node !== 'object') return escapeXml(String(node));
  if (Array.isArray(node)) return node.map((n) => `<item>${renderXml(n)}</item>`).join('');
  return Object.entries(node)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([tag, v]) => `<${tag}>${renderXml(v)}</${tag}>`)
    .join('');
}

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function ec2Response(action: string, body: Record<string, XmlNode>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">${renderXml(body)}</${action}Response>`;
}

export function ec2ErrorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
}
