import Alert from "@cloudscape-design/components/alert";
import { ApiError } from "../lib/api";

/** Any error, in words: the API's message and each field's reason; never swallowed. */
export function ErrorAlert({ error, header }: { error: unknown; header?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <Alert type="error" header={header ?? "Something went wrong"}>
      <div data-testid="error-message">{message}</div>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={`${f.field}:${f.reason}`}>
              <b>{f.field}</b>: {f.reason}
            </li>
          ))}
        </ul>
      )}
    </Alert>
  );
}
