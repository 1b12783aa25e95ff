% rebase('layout', main_class='page page-wide')
% import json
% from urllib.parse import urlencode
<div class="page-head">
  <p class="crumbs"><a href="/campaigns">{{_("Campaigns")}}</a></p>
  <h1>{{campaign['name']}}</h1>
  <p class="muted">{{labels['modes'][campaign['mode']]}} · {{labels['purposes'].get(campaign['purpose'], campaign['purpose'])}}</p>
</div>
<section class="panel" id="progress" data-campaign="{{campaign['id']}}" data-states="{{json.dumps(labels['states'], ensure_ascii=False)}}">
  <h2>{{_("Progress")}}</h2>
  <p>{{_("State")}}: <strong data-field="state">{{labels['states'].get(campaign['state'], campaign['state'])}}</strong></p>
  <div class="actions">
    % for action, label, allowed in (("start", _("Start"), campaign['state'] in ('draft', 'paused')), ("pause", _("Pause"), campaign['state'] == 'running'), ("stop", _("Stop (calls in progress finish)"), campaign['state'] in ('running', 'paused'))):
    <form method="post" action="/campaigns/{{campaign['id']}}/{{action}}" class="inline-form">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="btn {{'btn-primary' if action == 'start' else 'btn-ghost'}}" type="submit" id="campaign-{{action}}" {{!'' if allowed else 'disabled'}}>{{label}}</button>
    </form>
    % end
  </div>
  <div class="tiles" aria-label="{{_("Contacts")}}">
    % for state, label in labels['contact_states'].items():
    <div class="tile"><div class="tile-label">{{label}}</div><div class="tile-value" data-field="count-{{state}}">{{counts['states'].get(state, 0)}}</div></div>
    % end
  </div>
  % if counts['outcomes']:
  <h3>{{_("Last outcome")}}</h3>
  <dl class="facts" id="outcomes">
    % for outcome, n in sorted(counts['outcomes'].items()):
    <dt>{{labels['outcomes'].get(outcome, outcome)}}</dt><dd>{{n}}</dd>
    % end
  </dl>
  % end
  % if counts['results']:
  <h3>{{_("Answers (keys pressed)")}}</h3>
  <dl class="facts" id="results">
    % for result, n in sorted(counts['results'].items()):
    <dt>{{result}}</dt><dd>{{n}}</dd>
    % end
  </dl>
  % end
</section>
<section class="panel" id="contacts">
  <h2>{{_("Contacts")}}</h2>
  % if imported:
  <p class="notice" role="status">{{_("%(n)s contacts added.") % {'n': imported} }}</p>
  % end
  <form method="post" action="/campaigns/{{campaign['id']}}/import" enctype="multipart/form-data" class="inline-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("Add contacts from a CSV file (number, name, other columns)")}}</span>
      <input type="file" name="file" accept=".csv,text/csv" required></label>
    <button class="btn" type="submit">{{_("Preview")}}</button>
  </form>
  <form method="post" action="/campaigns/{{campaign['id']}}/customers" class="inline-form" id="customer-query">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <fieldset><legend>{{_("Or add customers from the customer book")}}</legend>
    <label class="field"><span>{{_("VIP level at least")}}</span><input type="number" name="vip_min" min="0" max="9"></label>
    <label class="field"><span>{{_("Last contact before")}}</span><input type="date" name="last_before"></label>
    <label class="field"><span>{{_("Last contact on or after")}}</span><input type="date" name="last_after"></label>
    <label class="field"><span>{{_("Open ticket")}}</span>
      <select name="open_ticket"><option value="">{{_("Any")}}</option><option value="yes">{{_("yes")}}</option><option value="no">{{_("no")}}</option></select></label>
    <label class="field"><span>{{_("Dedicated agent")}}</span><input type="text" name="agent_id" maxlength="32"></label>
    <button class="btn" type="submit">{{_("Preview")}}</button>
    </fieldset>
  </form>
  <form method="get" action="/campaigns/{{campaign['id']}}" class="inline-form" id="contact-filter">
    <label class="field"><span>{{_("State")}}</span>
      <select name="state"><option value="">{{_("Any")}}</option>
        % for state, label in labels['contact_states'].items():
        <option value="{{state}}" {{!'selected' if filters['state'] == state else ''}}>{{label}}</option>
        % end
      </select></label>
    <label class="field"><span>{{_("Outcome")}}</span>
      <select name="outcome"><option value="">{{_("Any")}}</option>
        % for outcome, label in labels['outcomes'].items():
        <option value="{{outcome}}" {{!'selected' if filters['outcome'] == outcome else ''}}>{{label}}</option>
        % end
      </select></label>
    <label class="field"><span>{{_("Number or name")}}</span><input type="search" name="q" value="{{filters['q']}}" maxlength="40"></label>
    <button class="btn btn-ghost" type="submit">{{_("Filter")}}</button>
    <a class="btn btn-ghost" href="/campaigns/{{campaign['id']}}/contacts.csv">{{_("Export CSV")}}</a>
  </form>
  <p class="muted">{{ngettext("%(n)d contact", "%(n)d contacts", total) % {'n': total} }}</p>
  <div class="table-wrap">
    <table class="table" id="contact-rows">
      <thead><tr><th>{{_("Number")}}</th><th>{{_("Name")}}</th><th>{{_("State")}}</th><th>{{_("Attempts")}}</th><th>{{_("Outcome")}}</th><th>{{_("Result")}}</th><th>{{_("Agent")}}</th><th>{{_("Next attempt")}}</th></tr></thead>
      <tbody>
      % for c in contacts:
        <tr data-contact="{{c['id']}}">
          <td class="mono">{{c['number']}}</td>
          <td>{{c['name'] or fmt.NONE}}</td>
          <td>{{labels['contact_states'].get(c['state'], c['state'])}}</td>
          <td>{{c['attempts']}}</td>
          <td>{{labels['outcomes'].get(c['outcome'], c['outcome']) if c['outcome'] else fmt.NONE}}</td>
          <td>{{c['result'] or fmt.NONE}}</td>
          <td>{{c['agent_id'] or fmt.NONE}}</td>
          <td>{{fmt.when(c['next_at']) if c['next_at'] and c['state'] == 'pending' else fmt.NONE}}</td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
  % if pages > 1:
  <nav class="pager" aria-label="{{_("Pages")}}">
    % for p in range(1, pages + 1):
    % if p == page:
    <span aria-current="page">{{p}}</span>
    % else:
    <a href="/campaigns/{{campaign['id']}}?{{urlencode({**filters, 'page': p})}}">{{p}}</a>
    % end
    % end
  </nav>
  % end
</section>
<section class="panel" id="rules">
  <h2>{{_("Reminder rules")}}</h2>
  <p class="muted">{{_("Each day, the customers whose date is this many days away or nearer become contacts of this campaign, once for each date.")}}</p>
  % if rules:
  <ul class="plain">
    % for rule in rules:
    <li data-rule="{{rule['id']}}">{{_("%(days)d days before %(field)s") % {'days': rule['days_before'], 'field': date_fields.get(rule['field'], rule['field'])} }}
      <form method="post" action="/campaigns/{{campaign['id']}}/rules/{{rule['id']}}/delete" class="inline-form">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button class="btn btn-ghost btn-sm" type="submit">{{_("Remove")}}</button>
      </form></li>
    % end
  </ul>
  % end
  % if campaign['mode'] == 'message':
  <form method="post" action="/campaigns/{{campaign['id']}}/rules" class="inline-form" id="rule-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("Days before")}}</span><input type="number" name="days_before" min="0" max="365" value="30" required></label>
    <label class="field"><span>{{_("the customer's")}}</span>
      <select name="field">
        % for key, label in date_fields.items():
        <option value="{{key}}">{{label}}</option>
        % end
      </select></label>
    <button class="btn" type="submit">{{_("Add rule")}}</button>
  </form>
  % else:
  <p class="hint">{{_("Reminder rules feed message campaigns.")}}</p>
  % end
</section>
<section class="panel" id="definition">
  <h2>{{_("Definition")}}</h2>
  % if not editable:
  <p class="hint">{{_("Pause the campaign to change its definition.")}}</p>
  % end
  % include('campaign_form', action='/campaigns/' + campaign['id'])
</section>
