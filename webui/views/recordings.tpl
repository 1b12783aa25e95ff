% rebase('layout', main_class='page page-wide')
% def page_url(**changes):
%   query = f.query_string(**changes)
%   return '/recordings?' + query if query else '/recordings'
% end
% def options(current, pairs, blank):
  <option value="">{{blank}}</option>
  % values = [v for v, _ in pairs]
  % if current and current not in values:
  <option value="{{current}}" selected>{{current}}</option>
  % end
  % for value, label in pairs:
  <option value="{{value}}" {{!'selected' if value == current else ''}}>{{label}}</option>
  % end
% end
% def invalid(name):
%   return 'invalid' if name in problems else ''
% end
% include('calls_nav', active_tab='recordings')
<div class="page-head">
  <h1>{{_("Recordings")}}</h1>
  % if not problems:
  <p class="muted" id="recordings-count">
    % if total:
    {{ngettext("%(first)s–%(last)s of %(total)s recording", "%(first)s–%(last)s of %(total)s recordings", total) % {'first': fmt.number((f.calls.page - 1) * f.calls.per_page + 1), 'last': fmt.number(min(f.calls.page * f.calls.per_page, total)), 'total': fmt.number(total)} }}
    % else:
    {{_("No recordings match.")}}
    % end
    % if not sees_all:
    · {{_("Only the calls you took.")}}
    % end
  </p>
  % end
</div>

<form method="get" action="/recordings" class="filters card" id="recording-search">
  <label class="field field-sm"><span>{{_("Recorded from")}}</span>
    <input type="date" name="from" value="{{form.get('from', '')}}" class="{{invalid('from')}}"></label>
  <label class="field field-sm"><span>{{_("Recorded to")}}</span>
    <input type="date" name="to" value="{{form.get('to', '')}}" class="{{invalid('to')}}"></label>
  <label class="field field-sm"><span>{{_("Number contains")}}</span>
    <input type="search" name="number" value="{{form.get('number', '')}}" inputmode="tel" maxlength="64"
           placeholder="{{_("e.g. 5550")}}"></label>
  <label class="field field-sm"><span>{{_("Customer")}}</span>
    <input type="search" name="customer" value="{{form.get('customer', '')}}" maxlength="64"
           class="{{invalid('customer')}}" placeholder="{{_("Name or company")}}"></label>
  % if sees_all:
  <label class="field field-sm"><span>{{_("Agent")}}</span>
    <select name="agent">
      % options(form.get('agent', ''), choices['agents'], _('All agents'))
    </select></label>
  % end
  <label class="field field-sm"><span>{{_("Queue")}}</span>
    <select name="queue">
      % options(form.get('queue', ''), choices['queues'], _('All queues'))
    </select></label>
  <label class="field field-sm"><span>{{_("Ticket")}}</span>
    <input type="search" name="ticket" value="{{form.get('ticket', '')}}" maxlength="64" class="{{invalid('ticket')}}"
           placeholder="{{_("Start of its id")}}"></label>
  <label class="field field-sm"><span>{{_("Disposition")}}</span>
    <select name="disposition" class="{{invalid('disposition')}}">
      % options(form.get('disposition', ''), choices['dispositions'], _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Shortest (s)")}}</span>
    <input type="number" name="min_duration" min="0" step="1" value="{{form.get('min_duration', '')}}"
           class="{{invalid('min_duration')}}"></label>
  <label class="field field-sm"><span>{{_("Longest (s)")}}</span>
    <input type="number" name="max_duration" min="0" step="1" value="{{form.get('max_duration', '')}}"
           class="{{invalid('max_duration')}}"></label>
  <label class="field field-sm"><span>{{_("Evaluated")}}</span>
    <select name="evaluated" class="{{invalid('evaluated')}}">
      % options(form.get('evaluated', ''), [('1', _('Scored')), ('0', _('Not yet scored'))], _('Any'))
    </select></label>
  % if f.calls.order != 'desc':
  <input type="hidden" name="order" value="{{f.calls.order}}">
  % end
  <div class="filter-buttons">
    <button class="btn btn-primary" type="submit">{{_("Search")}}</button>
    <a class="btn btn-ghost" href="/recordings">{{_("Clear")}}</a>
  </div>
</form>

% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Fix the filters to see recordings:")}}</strong>
  <ul>
    % for message in problems.values():
    <li>{{message}}</li>
    % end
  </ul>
</div>
% else:
<section class="panel">
  <div class="table-wrap">
    <table class="table table-recordings">
      <thead><tr>
        <th>
          % flip = 'asc' if f.calls.order == 'desc' else 'desc'
          <a class="sort" href="{{page_url(order=flip, page=1)}}"
             title="{{_('Sort oldest first') if flip == 'asc' else _('Sort newest first')}}">{{_("Recorded")}} <span aria-hidden="true">{{'▼' if f.calls.order == 'desc' else '▲'}}</span></a>
        </th>
        <th>{{_("Number")}}</th><th>{{_("Customer")}}</th><th>{{_("Queue")}}</th><th>{{_("Agent")}}</th>
        <th class="num">{{_("Length")}}</th><th>{{_("Disposition")}}</th><th class="opt">{{_("Tickets")}}</th>
        <th class="num">{{_("Score")}}</th>
      </tr></thead>
      <tbody>
        % for r in rows:
        <tr>
          <td class="arrival"><a href="/recordings/{{r['id']}}">{{fmt.when(r['created_at'])}}</a></td>
          <td class="nowrap"><span class="mono">{{r['number'] or _('unknown')}}</span>
            % if r['name']:
            <span class="sub">{{r['name']}}</span>
            % end
          </td>
          <td>{{r['customer_name'] or '—'}}</td>
          <td>{{r['queue'] or '—'}}</td>
          <td>{{r['agent_name'] or r['agent_id'] or '—'}}</td>
          <td class="num">{{fmt.duration(r['duration'])}}</td>
          <td>
            % if r['disposition']:
            <span class="st st-{{r['disposition']}}">{{_(dispositions[r['disposition']]) if r['disposition'] in dispositions else r['disposition']}}</span>
            % end
          </td>
          <td class="opt mono">
            % for t in r['tickets']:
            <a href="/tickets/{{t}}">{{t[:8]}}</a>
            % end
          </td>
          <td class="num">{{fmt.number(r['score']) if r['score'] is not None else '—'}}</td>
        </tr>
        % end
        % if not rows:
        <tr class="empty"><td colspan="9">{{_("No recordings match these filters.")}}</td></tr>
        % end
      </tbody>
    </table>
  </div>
  % if pages > 1:
  <nav class="pager" aria-label="{{_("Pages")}}">
    % if f.calls.page > 1:
    <a class="btn btn-ghost" href="{{page_url(page=f.calls.page - 1)}}" rel="prev">‹ {{_("Previous")}}</a>
    % else:
    <span class="btn btn-ghost disabled">‹ {{_("Previous")}}</span>
    % end
    <span class="muted">{{_("Page %(page)s of %(pages)s") % {'page': fmt.number(f.calls.page), 'pages': fmt.number(pages)} }}</span>
    % if f.calls.page < pages:
    <a class="btn btn-ghost" href="{{page_url(page=f.calls.page + 1)}}" rel="next">{{_("Next")}} ›</a>
    % else:
    <span class="btn btn-ghost disabled">{{_("Next")}} ›</span>
    % end
  </nav>
  % end
</section>
% end
