% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{card['name'] or card['id']}}</h1>
  <p class="crumbs"><a href="/customers">{{_("Customers")}}</a> · <span class="mono">{{card['id']}}</span>
    % if card['vip']:
    · <span class="st st-ready">{{_("VIP %(level)d") % {"level": card['vip']} }}</span>
    % end
    % if card['blocked']:
    · <span class="st st-logged_out">{{_("blocked")}}</span>
    % end
  </p>
</div>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
<div class="columns">
<section class="card form-card" id="card">
  <h2>{{_("Card")}}</h2>
  % if problems:
  <p class="form-error" role="alert">{{problems.get('version') or _("The card was not saved: see the fields marked below.")}}</p>
  % end
  <form method="post" action="/customers/{{card['id']}}" class="stack" id="customer-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{card['version']}}">
    % include('customer_fields')
    <button class="btn btn-primary" type="submit">{{_("Save")}}</button>
  </form>
  <p class="hint">{{_("Created %(created)s, changed %(changed)s (version %(version)d).") % {"created": fmt.when(card['created_at']), "changed": fmt.when(card['updated_at']), "version": card['version']} }}</p>
</section>

<div class="stack">
<section class="panel" id="calls">
  <h2>{{_("Calls")}} <span class="count">{{len(history['calls'])}}</span></h2>
  % if history['calls']:
  <div class="table-wrap">
    <table class="table">
      <thead><tr><th>{{_("When")}}</th><th>{{_("Number")}}</th><th>{{_("Queue")}}</th><th>{{_("Agent")}}</th>
        <th>{{_("Disposition")}}</th><th>{{_("Recording")}}</th></tr></thead>
      <tbody>
      % for call in history['calls']:
        <tr>
          <td class="nowrap"><a href="/calls/{{call['id']}}">{{fmt.when(call['arrived_at'])}}</a></td>
          <td class="mono">{{call['number'] or fmt.NONE}}</td>
          <td>{{call['queue'] or fmt.NONE}}</td>
          <td class="mono">{{call['agent_id'] or fmt.NONE}}</td>
          <td>{{_(dispositions[call['disposition']]) if call['disposition'] in dispositions else (call['disposition'] or fmt.NONE)}}</td>
          <td>
            % if call['recording_id']:
            <a href="/calls/{{call['id']}}">{{fmt.duration(call['recording_duration'])}}</a>
            % else:
            {{fmt.NONE}}
            % end
          </td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
  % else:
  <p class="muted">{{_("No calls from this customer yet.")}}</p>
  % end
</section>

<section class="panel" id="tickets">
  <h2>{{_("Tickets")}} <span class="count">{{len(history['tickets'])}}</span></h2>
  % if history['tickets']:
  <table class="table">
    <thead><tr><th>{{_("Created")}}</th><th>{{_("Title")}}</th><th>{{_("Category")}}</th><th>{{_("State")}}</th></tr></thead>
    <tbody>
    % for ticket in history['tickets']:
      <tr><td class="nowrap"><a href="/tickets/{{ticket['id']}}">{{fmt.when(ticket['created_at'])}}</a></td>
        <td>{{ticket['title'] or fmt.NONE}}</td><td>{{_(ticket['category']) if ticket['category'] else fmt.NONE}}</td>
        <td>{{_(ticket['state']) if ticket['state'] else fmt.NONE}}</td></tr>
    % end
    </tbody>
  </table>
  % else:
  <p class="muted">{{_("No tickets for this customer.")}}</p>
  % end
</section>

<section class="panel" id="surveys">
  <h2>{{_("Survey answers")}} <span class="count">{{len(history['surveys'])}}</span></h2>
  % if history['surveys']:
  <table class="table">
    <thead><tr><th>{{_("When")}}</th><th>{{_("Survey")}}</th><th>{{_("Question")}}</th><th>{{_("Answer")}}</th></tr></thead>
    <tbody>
    % for answer in history['surveys']:
      <tr><td class="nowrap"><a href="/calls/{{answer['call_id']}}">{{fmt.when(answer['at'])}}</a></td>
        <td>{{answer['survey'] or fmt.NONE}}</td><td>{{answer['question'] or fmt.NONE}}</td>
        <td>{{answer['answer'] or fmt.NONE}}</td></tr>
    % end
    </tbody>
  </table>
  % else:
  <p class="muted">{{_("No survey answers from this customer.")}}</p>
  % end
</section>

% if may_merge:
<section class="card form-card" id="merge">
  <h2>{{_("Merge a duplicate into this card")}}</h2>
  <p class="hint">{{_("The other card's numbers, calls, tickets and surveys move here; this card keeps its own fields and takes the other's where its own are empty. The other card's address then leads here.")}}</p>
  <form method="post" action="/customers/{{card['id']}}/merge" class="stack" id="merge-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{card['version']}}">
    <label class="field">
      <span>{{_("Id of the duplicate card")}}</span>
      <input name="other" maxlength="64" required class="{{'invalid' if merge_problems else ''}}" autocomplete="off">
      % for message in merge_problems.values():
      <span class="field-error" role="alert" id="error-other">{{message}}</span>
      % end
    </label>
    <button class="btn" type="submit">{{_("Merge into this card")}}</button>
  </form>
  % if duplicates:
  <h3>{{_("Other cards with this name")}}</h3>
  <ul class="plain" id="duplicates">
    % for other in duplicates:
    <li><a href="/customers/{{other['id']}}">{{other['name']}}</a> <span class="mono">{{other['id']}}</span>
      {{", ".join(n['display'] for n in other['numbers'])}} · {{other['company'] or fmt.NONE}}
      <form method="post" action="/customers/{{card['id']}}/merge" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="version" value="{{card['version']}}">
        <input type="hidden" name="other" value="{{other['id']}}">
        <button class="btn btn-sm" type="submit">{{_("Merge into this card")}}</button>
      </form></li>
    % end
  </ul>
  % end
</section>
% end
</div>
</div>
