% rebase('layout', main_class='page page-wide')
% def options(current, pairs, blank):
  <option value="">{{blank}}</option>
  % for value, label in pairs:
  <option value="{{value}}" {{!'selected' if value == current else ''}}>{{label}}</option>
  % end
% end
<div class="page-head">
  <h1>{{_("Tickets")}}</h1>
  <p>
    <a class="btn btn-primary" href="/tickets/new">{{_("New ticket")}}</a>
    <a class="btn btn-ghost" href="/tickets/queue">{{_("Department work queue")}}</a>
    <a class="btn btn-ghost" href="/tickets/callbacks">{{_("My callbacks")}}</a>
    <a class="btn {{'btn-warn' if overdue else 'btn-ghost'}}" href="/tickets?overdue=1" id="overdue-link">{{_("Overdue: %(n)s") % {'n': fmt.number(overdue)} }}</a>
    % if user_has('admin'):
    <a class="btn btn-ghost" href="/tickets/departments">{{_("Departments")}}</a>
    % end
  </p>
  % if not problems:
  <p class="muted">{{ngettext("%(total)s ticket", "%(total)s tickets", total) % {'total': fmt.number(total)} }}</p>
  % end
</div>

<form method="get" action="/tickets" class="filters card">
  <label class="field field-sm"><span>{{_("Search")}}</span>
    <input type="search" name="q" value="{{form.get('q', '')}}" maxlength="64" class="{{'invalid' if 'q' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("State")}}</span>
    <select name="state" class="{{'invalid' if 'state' in problems else ''}}">
      % options(form.get('state', ''), [('open', _('Open (not closed or cancelled)'))] + list(choices['states'].items()), _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Category")}}</span>
    <select name="category" class="{{'invalid' if 'category' in problems else ''}}">
      % options(form.get('category', ''), choices['categories'].items(), _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Priority")}}</span>
    <select name="priority" class="{{'invalid' if 'priority' in problems else ''}}">
      % options(form.get('priority', ''), choices['priorities'].items(), _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Department")}}</span>
    <select name="department" class="{{'invalid' if 'department' in problems else ''}}">
      % options(form.get('department', ''), choices['departments'].items(), _('Any'))
    </select></label>
  <label class="field field-sm"><span>{{_("Customer id")}}</span>
    <input type="text" name="customer" value="{{form.get('customer', '')}}" maxlength="64"></label>
  <label class="field field-sm"><span>{{_("Agent")}}</span>
    <input type="text" name="agent" value="{{form.get('agent', '')}}" maxlength="64"></label>
  <label class="field field-sm"><span>{{_("From")}}</span>
    <input type="date" name="from" value="{{form.get('from', '')}}" class="{{'invalid' if 'from' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("To")}}</span>
    <input type="date" name="to" value="{{form.get('to', '')}}" class="{{'invalid' if 'to' in problems else ''}}"></label>
  <label class="field field-sm"><span>{{_("Overdue only")}}</span>
    <input type="checkbox" name="overdue" value="1" {{!'checked' if form.get('overdue') == '1' else ''}}></label>
  <div class="filter-buttons">
    <button class="btn btn-primary" type="submit">{{_("Apply")}}</button>
    <a class="btn btn-ghost" href="/tickets">{{_("Clear")}}</a>
  </div>
</form>

% if problems:
<div class="form-error" role="alert">
  <strong>{{_("Fix the filters to see tickets:")}}</strong>
  <ul>
    % for field, message in problems.items():
    <li>{{field}}: {{message}}</li>
    % end
  </ul>
</div>
% else:
<section class="panel">
  % include('ticket_rows', tickets=tickets, empty=_("No tickets match."))
</section>
% if pages > 1:
<nav class="pager">
  % args = f.query_args()
  % if f.page > 1:
  <a class="btn btn-ghost btn-sm" href="/tickets?{{urlencode({**args, 'page': f.page - 1})}}">{{_("Previous")}}</a>
  % end
  <span class="muted">{{_("Page %(page)s of %(pages)s") % {'page': fmt.number(f.page), 'pages': fmt.number(pages)} }}</span>
  % if f.page < pages:
  <a class="btn btn-ghost btn-sm" href="/tickets?{{urlencode({**args, 'page': f.page + 1})}}">{{_("Next")}}</a>
  % end
</nav>
% end
% end
