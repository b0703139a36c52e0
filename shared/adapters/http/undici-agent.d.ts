// undici's Agent module alone (see undici-http-sender.ts): its types are those of the package's Agent.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
