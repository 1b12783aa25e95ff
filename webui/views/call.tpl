% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <p class="crumbs"><a href="/calls">Calls</a> › <span class="mono">{{call['id']}}</span></p>
  <h1><span class="mono">{{call['number'] or 'Unknown caller'}}</span>
    % if call['name']:
    <span class="muted">{{call['name']}}</span>
    % end
    % if call['disposition']:
    <span class="st st-{{call['disposition']}}">{{dispositions.get(call['disposition'], call['disposition'])}}</span>
    % else:
    <span class="st st-live">In progress</span>
    % end
  </h1>
</div>

<div class="detail">
  <section class="panel">
    <h2>Call</h2>
    <dl class="facts">
      <dt>Arrived</dt><dd>{{fmt.when(call['arrived_at'])}}</dd>
      <dt>Direction</dt><dd>{{call['direction'] or '—'}}</dd>
      <dt>Line</dt><dd>{{call['channel'] or '—'}}</dd>
      <dt>IVR path</dt><dd>{{' › '.join(call['path']) or '—'}}</dd>
      <dt>Digits</dt><dd class="mono">{{call['digits'] or '—'}}</dd>
      <dt>Queue</dt><dd>{{call['queue'] or '—'}}</dd>
      <dt>Wait</dt><dd>{{fmt.duration(call['wait'])}}</dd>
      <dt>Agent</dt><dd>{{call['agent_name'] or call['agent_id'] or '—'}}</dd>
      <dt>Talk</dt><dd>{{fmt.duration(call['talk'])}}</dd>
      <dt>Ended</dt><dd>{{fmt.when(call['ended_at'])}}</dd>
      <dt>Hung up by</dt><dd>{{call['hangup_by'] or '—'}}</dd>
    </dl>
  </section>
  <section class="panel">
    <h2>Timeline</h2>
    <div class="table-wrap">
      <table class="table timeline">
        <thead><tr><th class="num">Offset</th><th>Time</th><th>Event</th><th>Details</th></tr></thead>
        <tbody>
          % for e in events:
          <tr class="ev ev-{{e['kind'].split(':')[0]}}">
            <td class="num mono">{{fmt.offset(e['offset'])}}</td>
            <td class="mono nowrap">{{fmt.clock(e['at'])}}</td>
            <td><span class="ev-label">{{e['label']}}</span> <span class="sub mono">{{e['kind']}}</span></td>
            <td>
              % for key, value in fmt.details(e['data']):
              <span class="kv"><span class="k">{{key}}</span> {{value}}</span>
              % end
            </td>
          </tr>
          % end
          % if not events:
          <tr class="empty"><td colspan="4">No events were recorded for this call.</td></tr>
          % end
        </tbody>
      </table>
    </div>
  </section>
</div>
