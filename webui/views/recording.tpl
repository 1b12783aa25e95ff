% rebase('layout', main_class='page page-wide')
% rec_id = recording['id']
<div class="page-head">
  <p class="crumbs"><a href="/recordings">{{_("Recordings")}}</a> › <span class="mono">{{rec_id}}</span></p>
  <h1><span class="mono">{{call.get('number') or _('Unknown caller')}}</span>
    % if customer:
    <span class="muted">{{customer['name'] or customer['id']}}</span>
    % elif call.get('name'):
    <span class="muted">{{call['name']}}</span>
    % end
    % if call.get('disposition'):
    <span class="st st-{{call['disposition']}}">{{_(dispositions[call['disposition']]) if call['disposition'] in dispositions else call['disposition']}}</span>
    % end
  </h1>
  <p>
    <a class="btn btn-ghost" id="download" href="/api/v1/recordings/{{rec_id}}/download" download>{{_("Download")}}</a>
    % if can_see_records and call.get('arrived_at') is not None:
    <a class="btn btn-ghost" href="/calls/{{call['id']}}">{{_("Call record")}}</a>
    % end
  </p>
</div>

<section class="panel player" id="player" data-id="{{rec_id}}" data-duration="{{recording['duration'] or 0}}">
  <h2>{{_("Recording")}} <span class="muted">{{fmt.when(started_at)}} · {{fmt.duration(recording['duration'])}}</span></h2>
  <canvas id="waveform" class="waveform" tabindex="0" role="slider" height="160"
          aria-label="{{_("Position in the recording: arrow keys move 5 seconds, Page Up and Page Down 30, Home and End to the ends, space plays or pauses")}}"
          aria-valuemin="0" aria-valuemax="{{round(recording['duration'] or 0)}}" aria-valuenow="0" aria-valuetext="0:00"></canvas>
  <p class="wave-legend muted"><span class="lg lg-caller">{{_("Caller (left channel, top)")}}</span>
    <span class="lg lg-agent">{{_("What the caller heard: agent, music, transfers (right channel, bottom)")}}</span>
    <span class="lg lg-event">{{_("Call events")}}</span></p>
  <div class="player-controls">
    <button id="play" class="btn btn-primary" type="button" aria-pressed="false">{{_("Play")}}</button>
    <button id="back" class="btn btn-ghost" type="button" aria-label="{{_("Back 5 seconds")}}">« 5 s</button>
    <button id="forward" class="btn btn-ghost" type="button" aria-label="{{_("Forward 5 seconds")}}">5 s »</button>
    <span class="mono"><span id="position">0:00</span> / {{fmt.duration(recording['duration'])}}</span>
    <label class="field-inline">{{_("Speed")}}
      <select id="speed">
        % for s in speeds:
        <option value="{{s}}" {{!'selected' if s == 1.0 else ''}}>{{fmt.number(s)}}×</option>
        % end
      </select></label>
  </div>
  <p id="player-status" class="muted" role="status"></p>
  <audio id="audio" preload="none" src="/api/v1/recordings/{{rec_id}}/audio"></audio>
</section>

<div class="detail">
  <section class="panel">
    <h2>{{_("Call")}}</h2>
    <dl class="facts">
      <dt>{{_("Arrived")}}</dt><dd>{{fmt.when(call.get('arrived_at'))}}</dd>
      <dt>{{_("Customer")}}</dt><dd>
        % if customer:
        <a href="/customers/{{customer['id']}}">{{customer['name'] or customer['id']}}</a>{{(' · ' + customer['company']) if customer.get('company') else ''}}
        % else:
        —
        % end
      </dd>
      <dt>{{_("Queue")}}</dt><dd>{{call.get('queue') or '—'}}</dd>
      <dt>{{_("Agent")}}</dt><dd>{{call.get('agent_name') or call.get('agent_id') or '—'}}</dd>
      <dt>{{_("Wait")}}</dt><dd>{{fmt.duration(call.get('wait'))}}</dd>
      <dt>{{_("Talk")}}</dt><dd>{{fmt.duration(call.get('talk'))}}</dd>
      <dt>{{_("Hold")}}</dt><dd>{{fmt.duration(call.get('hold'))}}</dd>
      <dt>{{_("Transfers")}}</dt><dd>{{call.get('transfers') or 0}}</dd>
      <dt>{{_("Tickets")}}</dt><dd>
        % for t in tickets:
        <a href="/tickets/{{t['id']}}">{{t['title'] or t['id'][:8]}}</a>
        % end
        % if not tickets:
        —
        % end
      </dd>
    </dl>
  </section>
  <section class="panel">
    <h2>{{_("Events")}}</h2>
    <p class="muted panel-note">{{_("Choose an event to hear the recording from there. Secure input (a PIN, a card number) is masked and silent in the recording.")}}</p>
    <div class="table-wrap">
      <table class="table timeline" id="events">
        <thead><tr><th class="num">{{_("In the recording")}}</th><th>{{_("Event")}}</th><th>{{_("Details")}}</th></tr></thead>
        <tbody>
          % for e in events:
          <tr class="ev ev-{{e['kind'].split(':')[0]}}">
            <td class="num mono">
              % if e['position'] >= 0:
              <button type="button" class="linklike seek" data-seek="{{e['position']}}" data-kind="{{e['kind']}}">{{fmt.duration(e['position'])}}</button>
              % else:
              <button type="button" class="linklike seek before" data-seek="0" data-kind="{{e['kind']}}"
                      title="{{_("Before the recording started")}}">{{fmt.offset(e['position'])}}</button>
              % end
            </td>
            <td><span class="ev-label">{{e['label']}}</span> <span class="sub mono">{{e['kind']}}</span></td>
            <td>
              % for key, value in fmt.details(e['data']):
              <span class="kv"><span class="k">{{key}}</span> {{value}}</span>
              % end
            </td>
          </tr>
          % end
          % if not events:
          <tr class="empty"><td colspan="3">{{_("No events were recorded for this call.")}}</td></tr>
          % end
        </tbody>
      </table>
    </div>
  </section>
</div>

<section class="panel" id="evaluations">
  <h2>{{_("Quality evaluations")}}</h2>
  % for e in evaluations:
  <article class="evaluation">
    <p><strong class="score">{{fmt.number(e['score'])}}</strong> / 100
      % if quality_form and e['score'] < quality_form.pass_score:
      <span class="st st-abandoned">{{_("Below the pass score of %(pass)s: needs coaching") % {'pass': fmt.number(quality_form.pass_score)} }}</span>
      % end
      · {{e['evaluator']}} · {{fmt.when(e['created_at'])}}</p>
    % if e['comment']:
    <p class="comment">{{e['comment']}}</p>
    % end
    <details><summary>{{_("Points per criterion")}}</summary>
      <div class="table-wrap">
      <table class="table">
        <thead><tr><th>{{_("Criterion")}}</th><th class="num">{{_("Weight")}}</th><th class="num">{{_("Points")}}</th></tr></thead>
        <tbody>
          % for s in e['scores']:
          <tr><td>{{s['name'].get(lang) or s['name']['en']}}</td><td class="num">{{fmt.number(s['weight'])}}</td>
            <td class="num">{{s['points']}} / {{s['max_points']}}</td></tr>
          % end
        </tbody>
      </table>
      </div>
    </details>
  </article>
  % end
  % if not evaluations:
  <p class="muted panel-note" id="no-evaluations">{{_("This call has not been evaluated yet.")}}</p>
  % end

  % if can_evaluate:
  <form id="evaluate" class="evaluate-form" data-url="/api/v1/recordings/{{rec_id}}/evaluations">
    <h3>{{_("Evaluate this call")}}</h3>
    <div class="table-wrap">
    <table class="table">
      <thead><tr><th>{{_("Criterion")}}</th><th class="num">{{_("Weight")}}</th><th>{{_("Points")}}</th></tr></thead>
      <tbody>
        % for c in quality_form.criteria:
        <tr>
          <th scope="row"><label for="crit-{{c.id}}">{{c.name(lang)}}</label>
            % if c.hint(lang):
            <span class="sub">{{c.hint(lang)}}</span>
            % end
          </th>
          <td class="num">{{fmt.number(c.weight)}}</td>
          <td><select id="crit-{{c.id}}" name="{{c.id}}" data-criterion="{{c.id}}" required>
              <option value="">—</option>
              % for p in range(c.max_points, -1, -1):
              <option value="{{p}}">{{p}}</option>
              % end
            </select> / {{c.max_points}}</td>
        </tr>
        % end
      </tbody>
    </table>
    </div>
    <label class="field"><span>{{_("Comment for the agent")}}</span>
      <textarea name="comment" id="evaluate-comment" maxlength="2000" rows="3"></textarea></label>
    <p class="muted">{{_("The score is 100 × the sum of weight × points ÷ maximum, over the sum of the weights; below %(pass)s the call needs coaching.") % {'pass': fmt.number(quality_form.pass_score)} }}</p>
    <div class="form-error" id="evaluate-error" role="alert" hidden></div>
    <button class="btn btn-primary" type="submit" id="evaluate-save">{{_("Save the evaluation")}}</button>
  </form>
  % end
</section>
