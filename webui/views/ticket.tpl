% rebase('layout', main_class='page page-wide')
% late = is_overdue(ticket, now)
<div class="page-head">
  <p class="crumbs"><a href="/tickets">{{_("Tickets")}}</a> › <span class="mono">{{ticket['id']}}</span></p>
  <h1>{{ticket['title']}}
    <span class="st st-t-{{ticket['state']}}" id="ticket-state">{{choices['states'].get(ticket['state'], ticket['state'])}}</span>
    % if late:
    <span class="st st-overdue">{{_("Overdue")}}</span>
    % end
    % if ticket['repeat_of']:
    <span class="st st-repeat" id="repeat-flag">{{_("Repeat complaint")}}</span>
    % end
  </h1>
</div>
% if error:
<div class="form-error" role="alert" id="ticket-error">{{error}}
  % if problems:
  <ul>
    % for field, message in problems.items():
    <li>{{field}}: {{message}}</li>
    % end
  </ul>
  % end
</div>
% end

<div class="detail">
  <section class="panel">
    <h2>{{_("Ticket")}}</h2>
    <dl class="facts">
      <dt>{{_("Category")}}</dt><dd>{{choices['categories'].get(ticket['category'], ticket['category'])}}</dd>
      <dt>{{_("Priority")}}</dt><dd>{{choices['priorities'].get(ticket['priority'], ticket['priority'])}}</dd>
      <dt>{{_("Department")}}</dt><dd>{{choices['departments'].get(ticket['department'], ticket['department'] or '—')}}</dd>
      <dt>{{_("Caller's number")}}</dt><dd class="mono">{{ticket['number'] or '—'}}</dd>
      <dt>{{_("Customer id")}}</dt><dd class="mono">{{ticket['customer_id'] or '—'}}</dd>
      <dt>{{_("Address")}}</dt><dd>{{ticket['address'] or '—'}}</dd>
      <dt>{{_("Created")}}</dt><dd>{{fmt.when(ticket['created_at'])}} · {{ticket['created_by']}}</dd>
      <dt>{{_("Agent")}}</dt><dd>{{ticket['agent_id'] or '—'}}</dd>
      <dt>{{_("Due")}}</dt><dd class="{{'overdue' if late else ''}}">{{fmt.when(ticket['due_at'])}}</dd>
      <dt>{{_("Resolved")}}</dt><dd>{{fmt.when(ticket['resolved_at']) if ticket['resolved_at'] else '—'}}</dd>
      <dt>{{_("Closed")}}</dt><dd>{{fmt.when(ticket['closed_at']) if ticket['closed_at'] else '—'}}</dd>
      <dt>{{_("First-contact resolution")}}</dt>
      <dd id="fcr">
        % if ticket['first_contact_resolution'] == 1 and fcr_until > now:
        {{_("Yes, unless the customer comes back about it by %(when)s") % {'when': fmt.when(fcr_until)} }}
        % else:
        {{_("Yes") if ticket['first_contact_resolution'] == 1 else _("No") if ticket['first_contact_resolution'] == 0 else '—'}}
        % end
      </dd>
      <dt>{{_("Satisfaction")}}</dt><dd id="satisfaction">{{ticket['satisfaction'] or '—'}}</dd>
      <dt>{{_("Version")}}</dt><dd class="mono">{{ticket['version']}}</dd>
    </dl>
    <p class="prewrap panel-body">{{ticket['description'] or ''}}</p>
  </section>

  <section class="panel">
    <h2>{{_("Call")}}</h2>
    <div class="panel-body form-stack">
    % if call:
    <p id="linked-call" data-call="{{call['id']}}">
      % if can_see_records:
      <a href="/calls/{{call['id']}}">{{call['number'] or _('Unknown caller')}}</a>
      % else:
      <span class="mono">{{call['number'] or _('Unknown caller')}}</span>
      % end
      · {{fmt.when(call['arrived_at'])}} · {{call['agent_id'] or '—'}} · {{fmt.duration(call['talk'])}}</p>
    % if recording:
    <audio controls preload="none" src="/tickets/{{ticket['id']}}/recording" id="recording"></audio>
    <p><a href="/recordings/{{recording['id']}}">{{_("Open in the player: waveform, events, evaluation")}}</a> ·
      <a href="/tickets/{{ticket['id']}}/recording" download>{{_("Download the recording")}}</a></p>
    % else:
    <p class="muted">{{_("The call has no recording.")}}</p>
    % end
    % elif ticket['call_id']:
    <p class="muted">{{_("Call %(id)s is no longer on the box.") % {'id': ticket['call_id']} }}</p>
    % else:
    <p class="muted">{{_("Created by hand, not from a call.")}}</p>
    % end

    % if related:
    <h2>{{_("Related tickets")}}</h2>
    <ul id="related">
      % for r in related:
      <li><a href="/tickets/{{r['id']}}" class="mono">{{r['id'][:8]}}</a> {{r['title']}} · {{fmt.when(r['created_at'])}}
        · {{choices['states'].get(r['state'], r['state'])}}</li>
      % end
    </ul>
    % end
    </div>
  </section>
</div>

% if callback:
<section class="panel" id="callback">
  <h2>{{_("Satisfaction callback")}}</h2>
  <div class="panel-body">
  <form method="post" action="/tickets/{{ticket['id']}}/dial" class="inline-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="btn btn-ghost" type="submit" id="dial" {{!'' if ticket['number'] else 'disabled'}}>{{_("Call %(number)s") % {'number': ticket['number'] or '—'} }}</button>
  </form>
  <form method="post" action="/tickets/{{ticket['id']}}/satisfaction" class="form-stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{ticket['version']}}">
    <fieldset class="field"><legend>{{_("The customer's score (1 very unhappy, 5 very satisfied)")}}</legend>
      % for score in range(1, 6):
      <label class="radio"><input type="radio" name="score" value="{{score}}" required> {{score}}</label>
      % end
    </fieldset>
    <label class="field"><span>{{_("Comment")}}</span><textarea name="comment" rows="2" maxlength="1000"></textarea></label>
    <div>
      <button class="btn btn-ok" type="submit" name="outcome" value="close" id="outcome-close">{{_("Satisfied: close the ticket")}}</button>
      <button class="btn btn-warn" type="submit" name="outcome" value="reopen" id="outcome-reopen">{{_("Not satisfied: reopen")}}</button>
    </div>
  </form>
  </div>
</section>
% end

% if can_edit:
<details class="panel" id="edit" {{!'open' if problems and error else ''}}>
  <summary class="panel-body">{{_("Correct the ticket's fields")}}</summary>
  <form method="post" action="/tickets/{{ticket['id']}}/edit" class="form-stack panel-body">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{ticket['version']}}">
    % for field, label, limit in (('title', _("Title"), 120), ('number', _("Caller's number"), 32), ('customer_id', _("Customer id"), 64), ('address', _("Address"), 300)):
    <label class="field"><span>{{label}}</span>
      <input type="text" name="{{field}}" value="{{ticket[field] or ''}}" maxlength="{{limit}}" class="{{'invalid' if field in problems else ''}}"></label>
    % if field in problems:
    <span class="field-error">{{problems[field]}}</span>
    % end
    % end
    % for field, label in (('category', _("Category")), ('priority', _("Priority")), ('department', _("Department"))):
    <label class="field"><span>{{label}}</span>
      <select name="{{field}}" class="{{'invalid' if field in problems else ''}}">
        % for value, name in choices[field.replace('category', 'categories').replace('priority', 'priorities').replace('department', 'departments')].items():
        <option value="{{value}}" {{!'selected' if value == ticket[field] else ''}}>{{name}}</option>
        % end
      </select></label>
    % if field in problems:
    <span class="field-error">{{problems[field]}}</span>
    % end
    % end
    <label class="field"><span>{{_("Description")}}</span>
      <textarea name="description" rows="4" maxlength="4000">{{ticket['description'] or ''}}</textarea></label>
    <button class="btn btn-ghost" type="submit">{{_("Save")}}</button>
  </form>
</details>
% end

<section class="panel">
  <h2>{{_("Knowledge base")}}</h2>
  <div class="panel-body">
    % include('kb_search_box', box_id='ticket')
  </div>
</section>

% if actions:
<section class="panel" id="actions">
  <h2>{{_("Move the ticket")}}</h2>
  <form method="post" action="/tickets/{{ticket['id']}}/transition" class="form-stack panel-body">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{ticket['version']}}">
    <label class="field"><span>{{_("Note (kept in the history)")}}</span><textarea name="note" rows="2" maxlength="2000"></textarea></label>
    <div>
      % for action, label in actions:
      <button class="btn btn-primary" type="submit" name="action" value="{{action}}" id="action-{{action}}">{{label}}</button>
      % end
    </div>
  </form>
</section>
% end

<section class="panel">
  <h2>{{_("History")}}</h2>
  <div class="table-wrap">
    <table class="table timeline" id="history">
      <thead><tr><th>{{_("Time")}}</th><th>{{_("Who")}}</th><th>{{_("What")}}</th><th>{{_("Details")}}</th></tr></thead>
      <tbody>
        % for e in events:
        <tr class="ev ev-{{e['kind']}}">
          <td class="mono nowrap">{{fmt.when(e['at'])}}</td>
          <td>{{e['username'] or '—'}}</td>
          <td>{{event_labels.get(e['kind'], e['kind'])}}
            % if e['kind'] == 'transition':
            <span class="sub">{{choices['states'].get(e['from_state'], e['from_state'])}} → {{choices['states'].get(e['to_state'], e['to_state'])}}</span>
            % end
          </td>
          <td>
            % if e['note']:
            <span class="prewrap">{{e['note']}}</span>
            % end
            % for key, value in fmt.details(e['data']):
            <span class="kv"><span class="k">{{key}}</span> {{value}}</span>
            % end
          </td>
        </tr>
        % end
      </tbody>
    </table>
  </div>
  <form method="post" action="/tickets/{{ticket['id']}}/note" class="form-stack panel-body">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("Internal note (staff only)")}}</span><textarea name="note" rows="2" maxlength="2000" required></textarea></label>
    <button class="btn btn-ghost" type="submit">{{_("Add note")}}</button>
  </form>
</section>
