% rebase('layout', main_class='page page-wide')
% def pct(value):
%   return '—' if value is None else fmt.number(round(value * 100, 1)) + '%'
% end
% def problem_list(found, heading):
<div class="form-error" role="alert">
  <strong>{{heading}}</strong>
  <ul>
    % for message in found.values():
    <li>{{message}}</li>
    % end
  </ul>
</div>
% end
% def target_fields(values, found):
  <label class="field field-sm"><span>{{_("Service level")}} (%)</span>
    <input type="number" name="service_level" min="1" max="99.9" step="any" required
           value="{{values.get('service_level') or fmt.number(round(targets.service_level * 100, 1))}}"
           class="{{'invalid' if 'service_level' in found else ''}}"></label>
  <label class="field field-sm"><span>{{_("Answer within")}} (s)</span>
    <input type="number" name="answer_s" min="0" max="3600" step="any" required
           value="{{values.get('answer_s') or fmt.number(targets.answer_s)}}"
           class="{{'invalid' if 'answer_s' in found else ''}}"></label>
  <label class="field field-sm"><span>{{_("Shrinkage")}} (%)</span>
    <input type="number" name="shrinkage" min="0" max="90" step="any" required
           value="{{values.get('shrinkage') or fmt.number(round(targets.shrinkage * 100, 1))}}"
           class="{{'invalid' if 'shrinkage' in found else ''}}"></label>
% end
<div class="page-head">
  <h1>{{_("Staffing")}}</h1>
  <p class="muted">{{_("Agents needed per half hour from Erlang C, for the traffic this box has seen or for figures you enter.")}}</p>
</div>
% include('report_nav', here='staffing')

<section class="panel" aria-labelledby="observed-title">
  <h2 id="observed-title">{{_("From the calls this box took")}}</h2>
  <form method="get" action="/reports/staffing" class="filters" id="observed-form">
    <label class="field field-sm"><span>{{_("From")}}</span>
      <input type="date" name="from" value="{{form.get('from') or q.date_from.isoformat()}}" required
             class="{{'invalid' if 'from' in problems else ''}}"></label>
    <label class="field field-sm"><span>{{_("To")}}</span>
      <input type="date" name="to" value="{{form.get('to') or q.date_to.isoformat()}}" required
             class="{{'invalid' if 'to' in problems else ''}}"></label>
    <label class="field field-sm"><span>{{_("Day of the week")}}</span>
      <select name="weekday" class="{{'invalid' if 'weekday' in problems else ''}}">
        <option value="">{{_("Every day")}}</option>
        % for number, name in enumerate(weekdays, 1):
        <option value="{{number}}" {{!'selected' if form.get('weekday') == str(number) else ''}}>{{_(name)}}</option>
        % end
      </select></label>
    <label class="field field-sm"><span>{{_("Queue")}}</span>
      <select name="queue">
        <option value="">{{_("All queues")}}</option>
        % for name in queues:
        <option value="{{name}}" {{!'selected' if form.get('queue') == name else ''}}>{{name}}</option>
        % end
      </select></label>
    % target_fields(form, problems)
    % for name in ('calls_per_hour', 'aht_s'):
    <input type="hidden" name="{{name}}" value="{{what_if_form.get(name, '')}}">
    % end
    <div class="filter-buttons">
      <button class="btn btn-primary" type="submit">{{_("Show")}}</button>
    </div>
  </form>

  % if problems:
  % problem_list(problems, _("Fix these to see the staffing:"))
  % elif result:
  <p class="staffing-summary" id="observed-summary">
    % if result['offered']:
    {{ngettext("%(calls)s call offered over %(days)s day", "%(calls)s calls offered over %(days)s days", result['days']) % {'calls': fmt.number(result['offered']), 'days': fmt.number(result['days'])} }};
    {{_("AHT %(aht)s") % {'aht': fmt.duration(result['aht_s'])} }}.
      % if result['peak']:
    {{_("Busiest half hour %(start)s: %(agents)s agents answering, %(scheduled)s scheduled.") % {'start': result['peak']['start'], 'agents': fmt.number(result['peak']['agents']), 'scheduled': fmt.number(result['peak']['scheduled'])} }}
      % end
    % else:
    {{_("No calls reached a queue in this range: no agents are needed for it.")}}
    % end
  </p>
  % if result['offered']:
  <figure class="chart-box">
    <canvas id="staffing-chart" role="img" data-api="{{chart_api}}"
            aria-label="{{_("Agents needed and calls per half hour")}}"></canvas>
  </figure>
  <div class="table-wrap">
    <table class="table" id="staffing-table">
      <thead><tr>
        <th>{{_("Half hour")}}</th>
        <th class="num" title="{{_("Offered calls in this half hour, averaged over the days of the range.")}}">{{pgettext("count", "Calls")}} †</th>
        <th class="num" title="{{_("Talk (hold included) plus wrap-up, averaged over the calls agents handled.")}}">{{_("AHT")}} †</th>
        <th class="num" title="{{_("Calls per hour times AHT in hours: the agents kept busy on average.")}}">{{_("Erlangs")}} †</th>
        <th class="num" title="{{_("The fewest agents answering at once that meet the service-level target.")}}">{{_("Agents")}} †</th>
        <th class="num" title="{{_("Agents divided by (1 − shrinkage), rounded up: people on the rota.")}}">{{_("Scheduled")}} †</th>
        <th class="num" title="{{_("Share of calls answered within the target time with these agents.")}}">{{_("Service level")}} †</th>
        <th class="num" title="{{_("Average wait before an agent answers, over all calls.")}}">{{_("ASA")}} †</th>
        <th class="num" title="{{_("Share of the agents' time spent handling calls.")}}">{{_("Occupancy")}} †</th>
      </tr></thead>
      <tbody>
        % for row in result['intervals']:
        % if row['calls']:
        <tr>
          <td>{{row['start']}}</td>
          <td class="num">{{fmt.number(row['calls'])}}</td>
          <td class="num">{{fmt.duration(row['aht_s'])}}</td>
          <td class="num">{{fmt.number(row['traffic_erlangs'])}}</td>
          <td class="num"><strong>{{fmt.number(row['agents'])}}</strong></td>
          <td class="num">{{fmt.number(row['scheduled'])}}</td>
          <td class="num">{{pct(row['service_level'])}}</td>
          <td class="num">{{fmt.duration(row['asa_s'])}}</td>
          <td class="num">{{pct(row['occupancy'])}}</td>
        </tr>
        % end
        % end
      </tbody>
    </table>
  </div>
  % end
  % end
</section>

<section class="panel" aria-labelledby="what-if-title">
  <h2 id="what-if-title">{{_("What if")}}</h2>
  <form method="get" action="/reports/staffing" class="filters" id="what-if-form">
    <label class="field field-sm"><span>{{_("Calls per hour")}}</span>
      <input type="number" name="calls_per_hour" min="0" max="100000" step="any" required
             value="{{what_if_form.get('calls_per_hour', '')}}"
             class="{{'invalid' if 'calls_per_hour' in what_if_problems else ''}}"></label>
    <label class="field field-sm"><span>{{_("AHT")}} (s)</span>
      <input type="number" name="aht_s" min="1" max="14400" step="any" required
             value="{{what_if_form.get('aht_s', '')}}"
             class="{{'invalid' if 'aht_s' in what_if_problems else ''}}"></label>
    % target_fields(what_if_form, what_if_problems)
    % for name, value in q.params().items():
    <input type="hidden" name="{{name}}" value="{{value}}">
    % end
    <div class="filter-buttons">
      <button class="btn btn-primary" type="submit">{{_("Calculate")}}</button>
    </div>
  </form>
  <div id="what-if-answer" aria-live="polite">
    % if what_if_problems:
    % problem_list(what_if_problems, _("Fix these to see the answer:"))
    % elif what_if:
    % a = what_if['answer']
    <p class="staffing-summary">
      {{_("%(agents)s agents answering (%(scheduled)s scheduled) give %(sl)s of calls answered within %(t)s s, ASA %(asa)s, occupancy %(occ)s.") % {'agents': fmt.number(a['agents']), 'scheduled': fmt.number(a['scheduled']), 'sl': pct(a['service_level']), 't': fmt.number(what_if['targets']['answer_s']), 'asa': fmt.duration(a['asa_s']), 'occ': pct(a['occupancy'])} }}
    </p>
    % if what_if['table']:
    <div class="table-wrap">
      <table class="table" id="what-if-table">
        <thead><tr>
          <th class="num">{{_("Agents")}}</th><th class="num">{{_("Scheduled")}}</th>
          <th class="num">{{_("Waiting at all")}}</th><th class="num">{{_("Service level")}}</th>
          <th class="num">{{_("ASA")}}</th><th class="num">{{_("Occupancy")}}</th>
        </tr></thead>
        <tbody>
          % for row in what_if['table']:
          <tr class="{{'chosen' if row['agents'] == a['agents'] else ''}}">
            <td class="num">{{fmt.number(row['agents'])}}</td><td class="num">{{fmt.number(row['scheduled'])}}</td>
            <td class="num">{{pct(row['p_wait'])}}</td><td class="num">{{pct(row['service_level'])}}</td>
            <td class="num">{{fmt.duration(row['asa_s'])}}</td><td class="num">{{pct(row['occupancy'])}}</td>
          </tr>
          % end
        </tbody>
      </table>
    </div>
    % end
    % end
  </div>
</section>

<section class="notes">
  <h2>{{_("How these figures are made")}}</h2>
  <p>† {{_("Erlang C: calls arrive at random and wait until an agent is free; callers who give up are not modelled, so it errs towards more agents.")}}
     {{_("Offered calls are inbound calls that reached a queue; AHT is talk (hold included) plus wrap-up over the calls agents handled.")}}
     {{_("Scheduled people are the agents divided by (1 − shrinkage): shrinkage is the share of paid time spent on breaks, training, meetings and absence.")}}</p>
</section>
