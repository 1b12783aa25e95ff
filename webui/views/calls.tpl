% rebase('layout', main_class='page page-wide')
% def calls_url(**changes):
%   query = f.query_string(**changes)
%   return '/calls?' + query if query else '/calls'
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
% include('calls_nav', active_tab='calls')
<div class="page-head">
  <h1>{{_("Calls")}}</h1>
  % if not problems:
  <p class="muted">
    % if total:
    {{ngettext("%(first)s–%(last)s of %(total)s call", "%(first)s–%(last)s of %(total)s calls", total) % {'first': fmt.number((f.page - 1) * f.per_page + 1), 'last': fmt.number(min(f.page * f.per_page, total)), 'total': fmt.number(total)} }}
    % else:
    {{_("No calls match.")}}
    % end
  </p>
  % end
</div>

<form method="get" action="/calls" class="filters card">
  <label class="field field-sm"><span>{{_("From")}}</span>
    <input type="date" name="from" value="{{form.get('from', '')}}" class="{{'invalid' if 'from' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("To")}}</span>
    <input type="date" name="to" value="{{form.get('to', '')}}" class="{{'invalid' if 'to' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("Number contains")}}</span>
    <input type="search" name="number" value="{{form.get('number', '')}}" inputmode="tel" maxlength="64"
           placeholder="{{_("e.g. 5550")}}"></label>
  <label class="field field-sm"><span>{{_("Queue")}}</span>
    <select name="queue">
      % options(form.get('queue', ''), choices['queues'], _('All queues'))
    </select></label>
  <label class="field field-sm"><span>{{_("Disposition")}}</span>
    <select name="disposition" class="{{'invalid' if 'disposition' in problems else ''}}">
      % options(form.get('disposition', ''), choices['dispositions'], _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Agent")}}</span>
    <select name="agent">
      % options(form.get('agent', ''), choices['agents'], _('All agents'))
    </select></label>
  % if f.order != 'desc':
  <input type="hidden" name="order" value="{{f.order}}">
  % end
  <div class="filter-buttons">
    <button class="btn btn-primary" type="submit">{{_("Apply")}}</button>
    <a class="btn btn-ghost" href="/calls">{{_("Clear")}}</a>
  </div>
</form>

% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Fix the filters to see calls:")}}</strong>
  <ul>
    % for message in problems.values():
    <li>{{message}}</li>
    % end
  </ul>
</div>
% else:
<section class="panel">
  <div class="table-wrap">
    <table class="table table-calls">
      <thead><tr>
        <th>
          % flip = 'asc' if f.order == 'desc' else 'desc'
          <a class="sort" href="{{calls_url(order=flip, page=1)}}"
             title="{{_('Sort oldest first') if flip == 'asc' else _('Sort newest first')}}">{{_("Arrival")}} <span aria-hidden="true">{{'▼' if f.order == 'desc' else '▲'}}</span></a>
        </th>
        <th>{{_("Number")}}</th><th>{{_("IVR path")}}</th><th class="opt">{{_("Digits")}}</th><th>{{_("Queue")}}</th>
        <th class="num">{{_("Wait")}}</th><th>{{_("Agent")}}</th><th class="num opt">{{_("Talk")}}</th>
        <th>{{_("Disposition")}}</th>
      </tr></thead>
      <tbody>
        % for c in calls:
        <tr>
          <td class="arrival"><a href="/calls/{{c['id']}}">{{fmt.when(c['arrived_at'])}}</a></td>
          <td class="nowrap">
            <span class="mono">{{c['number'] or _('unknown')}}</span>
            % if c['name']:
            <span class="sub">{{c['name']}}</span>
            % end
          </td>
          <td><span class="path" title="{{' › '.join(c['path'])}}">{{' › '.join(c['path']) or '—'}}</span></td>
          <td class="mono opt">{{c['digits'] or '—'}}</td>
          <td>{{c['queue'] or '—'}}</td>
          <td class="num">{{fmt.duration(c['wait'])}}</td>
          <td>{{c['agent_name'] or c['agent_id'] or '—'}}</td>
          <td class="num opt">{{fmt.duration(c['talk'])}}</td>
          <td>
            % if c['disposition']:
            <span class="st st-{{c['disposition']}}">{{_(dispositions[c['disposition']]) if c['disposition'] in dispositions else c['disposition']}}</span>
            % else:
            <span class="st st-live">{{_("In progress")}}</span>
            % end
          </td>
        </tr>
        % end
        % if not calls:
        <tr class="empty"><td colspan="9">{{_("No calls match these filters.")}}</td></tr>
        % end
      </tbody>
    </table>
  </div>
  % if pages > 1:
  <nav class="pager" aria-label="{{_("Pages")}}">
    % if f.page > 1:
    <a class="btn btn-ghost" href="{{calls_url(page=f.page - 1)}}" rel="prev">‹ {{_("Previous")}}</a>
    % else:
    <span class="btn btn-ghost disabled">‹ {{_("Previous")}}</span>
    % end
    <span class="muted">{{_("Page %(page)s of %(pages)s") % {'page': fmt.number(f.page), 'pages': fmt.number(pages)} }}</span>
    % if f.page < pages:
    <a class="btn btn-ghost" href="{{calls_url(page=f.page + 1)}}" rel="next">{{_("Next")}} ›</a>
    % else:
    <span class="btn btn-ghost disabled">{{_("Next")}} ›</span>
    % end
  </nav>
  % end
</section>
% end
