import { displayValue, sameValue } from '../format';
import type { JsonObject } from '../../../shared/action';

/** The payload as a field table; with `edited`, a diff of requested against edited values. */
export function PayloadView({ payload, edited, editedLabel = 'Approved' }: { payload: JsonObject; edited?: JsonObject; editedLabel?: string }) {
  const fields = [...new Set([...Object.keys(payload), ...Object.keys(edited ?? {})])];
  if (!edited) {
    return (
      <table class="kv payload">
        <caption class="visually-hidden">Payload fields</caption>
        <tbody>
          {fields.map((field) => (
            <tr>
              <th scope="row">{field}</th>
              <td>
                <pre>{displayValue(payload[field])}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return (
    <table class="diff payload">
      <caption class="visually-hidden">Payload: requested and {editedLabel.toLowerCase()} values</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Requested</th>
          <th scope="col">{editedLabel}</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => {
          const changed = !sameValue(payload[field], edited[field]);
          return (
            <tr class={changed ? 'is-changed' : undefined}>
              <th scope="row">
                {field}
                {changed && <span class="tag tag-changed">changed</span>}
              </th>
              <td class={changed ? 'removed' : undefined}>
                <pre>{displayValue(payload[field])}</pre>
              </td>
              <td class={changed ? 'added' : undefined}>
                <pre>{displayValue(edited[field])}</pre>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
