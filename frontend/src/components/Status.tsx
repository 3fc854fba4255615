import StatusIndicator, {
  type StatusIndicatorProps,
} from "@cloudscape-design/components/status-indicator";

const TYPES: Record<string, StatusIndicatorProps.Type> = {
  PENDING: "pending",
  RUNNING: "in-progress",
  IN_PROGRESS: "in-progress",
  STARTED: "in-progress",
  LAUNCHING: "in-progress",
  PRE_ACTIONS: "in-progress",
  POST_ACTIONS: "in-progress",
  PAUSED: "warning",
  AWAITING_APPROVAL: "warning",
  CANCELLING: "in-progress",
  COMPLETED: "success",
  LAUNCHED: "success",
  TERMINATED: "stopped",
  FAILED: "error",
  CANCELLED: "stopped",
  SKIPPED: "stopped",
};

/** A status of an execution, wave, job or server, with the AWS console's icons. */
export function Status({ value }: { value: string }) {
  return <StatusIndicator type={TYPES[value] ?? "info"}>{value}</StatusIndicator>;
}
