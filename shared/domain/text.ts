/**
 * The first `maxUnits` UTF-16 units of `text`, one fewer when the cut would split a surrogate
 * pair: a lone surrogate is not Unicode, and strict JSON parsers (serde_json, for one) refuse a
 * document that carries one, where the delivery log and payloads are read by any language.
 */
export function textPrefix(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  const last = text.charCodeAt(maxUnits - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxUnits - 1 : maxUnits);
}
