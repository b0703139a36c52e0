/**
 * Grants as the suite reports and edits them: the table of grants no call used, and a copy of a
 * template with one grant taken out (to prove the suite catches a missing permission).
 */
import { shortArn, type Grant } from './iam.ts';
import { StackModel, type CfnTemplate } from './template.ts';

/** `principal -> unused grants` as a table, one line per principal and resource. */
export function unusedGrantsTable(unused: ReadonlyMap<string, readonly Grant[]>): string {
  const rows: [string, string, string][] = [];
  for (const [principal, grants] of unused) {
    const byResource = new Map<string, Set<string>>();
    for (const g of grants) byResource.set(g.resource, (byResource.get(g.resource) ?? new Set()).add(g.action));
    if (byResource.size === 0) rows.push([principal, '(none)', '']);
    for (const [resource, actions] of [...byResource].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push([principal, [...actions].sort().join(', '), shortArn(resource)]);
    }
  }
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length), 8);
  const line = (r: readonly string[]) => `${r[0]!.padEnd(width(0))}  ${r[1]!.padEnd(width(1))}  ${r[2]}`.trimEnd();
  return [
    'Lambda suite: grants that no call used (drop each, or say why it stays)',
    line(['function', 'actions', 'resource']),
    ...rows.map(line),
  ].join('\n');
}

/**
 * A deep copy of `template` in which the policies of `roleLogicalId` no longer allow `action`
 * (removed from every statement of the role's `AWS::IAM::Policy` resources; a statement left
 * without actions is dropped). Throws when the role had no such grant.
 */
export function withoutGrant(template: CfnTemplate, roleLogicalId: string, action: string): CfnTemplate {
  const copy = structuredClone(template) as CfnTemplate;
  let removed = 0;
  for (const resource of Object.values(copy.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const p = resource.Properties;
    if (!(p.Roles as unknown[]).some((r) => StackModel.target(r) === roleLogicalId)) continue;
    const statements = Array.isArray(p.PolicyDocument.Statement) ? p.PolicyDocument.Statement : [p.PolicyDocument.Statement];
    p.PolicyDocument.Statement = statements
      .map((st: { Action: string | string[] }) => {
        const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
        const kept = actions.filter((a) => a !== action);
        removed += actions.length - kept.length;
        return { ...st, Action: kept.length === 1 ? kept[0] : kept };
      })
      .filter((st: { Action: string | string[] }) => st.Action !== undefined && st.Action.length > 0);
  }
  if (removed === 0) throw new Error(`${roleLogicalId} has no grant of ${action} to remove`);
  return copy;
}
