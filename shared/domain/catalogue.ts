/**
 * The event catalogue: the types a tenant may publish and a webhook may subscribe to. The default
 * is NetRecon's 14 types (seed 004) plus `webhook.test`, the connectivity check.
 */
export interface EventType {
  readonly type: string;
  readonly title: string;
  readonly description: string;
}

export const TEST_EVENT_TYPE = 'webhook.test';

export const DEFAULT_CATALOGUE: readonly EventType[] = [
  { type: 'alert.created', title: 'Alert created', description: 'New alert generated' },
  { type: 'alert.resolved', title: 'Alert resolved', description: 'Alert resolved' },
  { type: 'scan.started', title: 'Scan started', description: 'Scan started' },
  { type: 'scan.completed', title: 'Scan completed', description: 'Scan finished' },
  { type: 'scan.failed', title: 'Scan failed', description: 'Scan error' },
  { type: 'device.discovered', title: 'Device discovered', description: 'New device found' },
  { type: 'device.offline', title: 'Device offline', description: 'Device went offline' },
  { type: 'ids.alert', title: 'IDS alert', description: 'IDS rule triggered' },
  { type: 'honeypot.hit', title: 'Honeypot hit', description: 'Honeypot interaction' },
  { type: 'rogue.detected', title: 'Rogue device detected', description: 'Rogue DHCP/ARP detected' },
  { type: 'cve.matched', title: 'CVE matched', description: 'New CVE matched to a device' },
  { type: 'backup.completed', title: 'Backup completed', description: 'Backup finished' },
  { type: 'backup.failed', title: 'Backup failed', description: 'Backup error' },
  { type: 'anomaly.detected', title: 'Anomaly detected', description: 'ML anomaly detected' },
  { type: TEST_EVENT_TYPE, title: 'Test event', description: 'Connectivity check sent by the test endpoint' },
];

export class Catalogue {
  readonly types: readonly EventType[];
  private readonly byType: ReadonlyMap<string, EventType>;
  constructor(types: readonly EventType[] = DEFAULT_CATALOGUE) {
    this.types = types;
    this.byType = new Map(types.map((t) => [t.type, t]));
  }
  has(type: string): boolean {
    return this.byType.has(type);
  }
  get(type: string): EventType | undefined {
    return this.byType.get(type);
  }
}
