% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <p class="crumbs"><a href="/tickets">{{_("Tickets")}}</a></p>
  <h1>{{_("Department work queue")}}
    % if department:
    <span class="muted">{{choices['departments'].get(department, department)}}</span>
    % end
  </h1>
  <form method="get" action="/tickets/queue" class="filters card">
    <label class="field field-sm"><span>{{_("Department")}}</span>
      <select name="department">
        % for value, label in choices['departments'].items():
        <option value="{{value}}" {{!'selected' if value == department else ''}}>{{label}}{{_(" (yours)") if value == own else ''}}</option>
        % end
      </select></label>
    <div class="filter-buttons"><button class="btn btn-primary" type="submit">{{_("Show")}}</button></div>
  </form>
</div>
<section class="panel">
  % if not department:
  <p class="muted panel-body">{{_("You belong to no department. Choose one to see its work.")}}</p>
  % end
  % include('ticket_rows', tickets=tickets, empty=_("Nothing waits on this department."))
</section>
