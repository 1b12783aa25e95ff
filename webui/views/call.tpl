% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <p class="crumbs"><a href="/calls">{{_("Calls")}}</a> › <span class="mono">{{call['id']}}</span></p>
  <h1><span class="mono">{{call['number'] or _('Unknown caller')}}</span>
    % if call['name']:
    <span class="muted">{{call['name']}}</span>
    % end
    % if call['disposition']:
    <span class="st st-{{call['disposition']}}">{{_(dispositions[call['disposition']]) if call['disposition'] in dispositions else call['disposition']}}</span>
    % else:
    <span class="st st-live">{{_("In progress")}}</span>
    % end
  </h1>
  <p><a class="btn btn-primary" id="create-ticket" href="/tickets/new?call_id={{call['id']}}">{{_("Create ticket")}}</a>
    % for r in recordings:
    <a class="btn btn-ghost" href="/recordings/{{r['id']}}">{{_("Play the recording")}} ({{fmt.duration(r['duration'])}})</a>
    % end
  </p>
</div>

<div class="detail">
  <section class="panel">
    <h2>{{_("Call")}}</h2>
    <dl class="facts">
      <dt>{{_("Arrived")}}</dt><dd>{{fmt.when(call['arrived_at'])}}</dd>
      <dt>{{_("Direction")}}</dt><dd>{{_(directions[call['direction']]) if call['direction'] in directions else call['direction'] or '—'}}</dd>
      <dt>{{_("Line")}}</dt><dd>{{call['channel'] or '—'}}</dd>
      <dt>{{_("IVR path")}}</dt><dd>{{' › '.join(call['path']) or '—'}}</dd>
      <dt>{{_("Digits")}}</dt><dd class="mono">{{call['digits'] or '—'}}</dd>
      <dt>{{_("Queue")}}</dt><dd>{{call['queue'] or '—'}}</dd>
      <dt>{{_("Wait")}}</dt><dd>{{fmt.duration(call['wait'])}}</dd>
      <dt>{{_("Agent")}}</dt><dd>{{call['agent_name'] or call['agent_id'] or '—'}}</dd>
      <dt>{{_("Talk")}}</dt><dd>{{fmt.duration(call['talk'])}}</dd>
      <dt>{{_("Ended")}}</dt><dd>{{fmt.when(call['ended_at'])}}</dd>
      <dt>{{_("Hung up by")}}</dt><dd>{{_(hangup_parties[call['hangup_by']]) if call['hangup_by'] in hangup_parties else call['hangup_by'] or '—'}}</dd>
    </dl>
  </section>
  % if surveys:
  <section class="panel" id="survey-answers">
    <h2>{{_("Survey answers")}}</h2>
    <table class="table">
      <thead><tr><th>{{_("Survey")}}</th><th>{{_("Question")}}</th><th class="num">{{_("Answer")}}</th><th>{{_("Time")}}</th></tr></thead>
      <tbody>
        % for s in surveys:
        <tr><td>{{s['survey']}}</td><td>{{s['question']}}</td><td class="num">{{s['answer']}}</td><td class="mono nowrap">{{fmt.clock(s['at'])}}</td></tr>
        % end
      </tbody>
    </table>
  </section>
  % end
  <section class="panel">
    <h2>{{_("Timeline")}}</h2>
    <div class="table-wrap">
      <table class="table timeline">
        <thead><tr><th class="num">{{_("Offset")}}</th><th>{{_("Time")}}</th><th>{{_("Event")}}</th><th>{{_("Details")}}</th></tr></thead>
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
          <tr class="empty"><td colspan="4">{{_("No events were recorded for this call.")}}</td></tr>
          % end
        </tbody>
      </table>
    </div>
  </section>
</div>
