%# Recent deliveries, newest first; `retry_for` names the endpoint whose waiting ones may be retried now.
<div class="table-wrap">
  <table class="table" id="deliveries">
    <thead><tr><th>{{_("Event")}}</th><th>{{_("Key")}}</th><th>{{_("Receiver")}}</th><th>{{_("Status")}}</th>
      <th>{{_("Attempts")}}</th><th>{{_("Last try")}}</th><th>{{_("Answer")}}</th><th></th></tr></thead>
    <tbody>
    % for d in deliveries:
      <tr data-key="{{d['event_id']}}">
        <td class="mono">{{d['event']}}</td>
        <td class="mono">{{d['key']}}</td>
        <td class="mono">{{d['url']}}</td>
        <td>
          % if d['state'] == 'delivered':
          <span class="st st-ready">{{_("delivered")}}</span>
          % elif d['state'] == 'abandoned':
          <span class="st st-logged_out">{{_("abandoned")}}</span>
          % else:
          <span class="st st-not_ready">{{_("waiting")}}</span>
          <span class="muted small">{{_("next try %(when)s") % {"when": fmt.when(d['next_at'])} }}</span>
          % end
        </td>
        <td>{{d['attempts']}}</td>
        <td class="nowrap">{{fmt.when(d['last_at']) if d['last_at'] else fmt.NONE}}</td>
        <td>{{d['last_status'] or ''}} <span class="muted">{{d['last_error'] or ''}}</span></td>
        <td>
          % if get('retry_for') and d['state'] != 'delivered':
          <form method="post" action="/webhooks/{{retry_for}}/retry" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="delivery" value="{{d['id']}}">
            <button class="btn btn-sm" type="submit">{{_("Retry now")}}</button>
          </form>
          % end
        </td>
      </tr>
    % end
    </tbody>
  </table>
</div>
% if not deliveries:
<p class="muted">{{_("Nothing sent yet.")}}</p>
% end
