export { agentActionWorkflow } from './agent-action-workflow';
