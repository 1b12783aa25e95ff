% rebase('layout', main_class='page')
% def error(field):
  % if field in problems:
  <span class="field-error" id="{{field}}-error">{{problems[field]}}</span>
  % end
% end
<div class="page-head">
  <p class="crumbs"><a href="/tickets">{{_("Tickets")}}</a></p>
  <h1>{{_("New ticket")}}</h1>
  % if call:
  <p class="muted">{{_("From call %(number)s at %(when)s") % {'number': call['number'] or _('Unknown caller'), 'when': fmt.when(call['arrived_at'])} }}
    <a href="/calls/{{call['id']}}">{{_("See the call")}}</a></p>
  % end
  % if recent:
  <div class="card" id="recent-calls">
    <p>{{_("From one of your last calls:")}}</p>
    <ul>
      % for call_id, number, arrived_at in recent:
      <li><a href="/tickets/new?call_id={{call_id}}" data-call="{{call_id}}">{{number or _('Unknown caller')}}</a> · {{fmt.when(arrived_at)}}</li>
      % end
    </ul>
  </div>
  % end
</div>
% if 'form' in problems:
<div class="form-error" role="alert">{{problems['form']}}</div>
% end
<form method="post" action="/tickets/new" class="card form-stack" id="ticket-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="call_id" value="{{form['call_id']}}">
  % error('call_id')
  <label class="field"><span>{{_("Title")}}</span>
    <input type="text" name="title" value="{{form['title']}}" maxlength="120" required class="{{'invalid' if 'title' in problems else ''}}"></label>
  % error('title')
  <label class="field"><span>{{_("Category")}}</span>
    <select name="category" required class="{{'invalid' if 'category' in problems else ''}}">
      <option value="">{{_("Choose")}}</option>
      % for value, label in choices['categories'].items():
      % routed = choices['category_departments'][value]
      <option value="{{value}}" {{!'selected' if value == form['category'] else ''}}>{{label}}{{(' → ' + choices['departments'][routed]) if routed else ''}}</option>
      % end
    </select></label>
  % error('category')
  <label class="field"><span>{{_("Priority")}}</span>
    <select name="priority" class="{{'invalid' if 'priority' in problems else ''}}">
      % for value, label in choices['priorities'].items():
      <option value="{{value}}" {{!'selected' if value == form['priority'] else ''}}>{{label}}</option>
      % end
    </select></label>
  % error('priority')
  <label class="field"><span>{{_("Department (when the category does not route)")}}</span>
    <select name="department" class="{{'invalid' if 'department' in problems else ''}}">
      <option value="">{{_("The category's department")}}</option>
      % for value, label in choices['departments'].items():
      <option value="{{value}}" {{!'selected' if value == form['department'] else ''}}>{{label}}</option>
      % end
    </select></label>
  % error('department')
  <label class="field"><span>{{_("Caller's number")}}</span>
    <input type="tel" name="number" value="{{form['number']}}" maxlength="32" class="{{'invalid' if 'number' in problems else ''}}"></label>
  % error('number')
  <label class="field"><span>{{_("Customer id")}}</span>
    <input type="text" name="customer_id" value="{{form['customer_id']}}" maxlength="64" class="{{'invalid' if 'customer_id' in problems else ''}}"></label>
  % error('customer_id')
  <label class="field"><span>{{_("Address")}}</span>
    <input type="text" name="address" value="{{form['address']}}" maxlength="300" class="{{'invalid' if 'address' in problems else ''}}"></label>
  % error('address')
  <label class="field"><span>{{_("Description")}}</span>
    <textarea name="description" rows="6" maxlength="4000" class="{{'invalid' if 'description' in problems else ''}}">{{form['description']}}</textarea></label>
  % error('description')
  <label class="field field-check"><input type="checkbox" name="resolve_now" value="1"> <span>{{_("Resolved during this call")}}</span></label>
  <button class="btn btn-primary" type="submit">{{_("Create ticket")}}</button>
</form>
