% rebase('layout', main_class='page')
<div class="page-head">
  <p class="crumbs"><a href="/tickets">{{_("Tickets")}}</a></p>
  <h1>{{_("Departments")}}</h1>
  <p class="muted">{{_("A user in a department works the tickets dispatched to it (start and resolve them).")}}</p>
</div>
<section class="panel">
  <div class="table-wrap">
    <table class="table">
      <thead><tr><th>{{_("User")}}</th><th>{{_("Department")}}</th></tr></thead>
      <tbody>
        % for username, display_name, roles, department in users:
        <tr>
          <td>{{username}} <span class="muted">{{display_name or ''}}</span></td>
          <td>
            <form method="post" action="/tickets/departments" class="inline-form">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <input type="hidden" name="username" value="{{username}}">
              <select name="department" aria-label="{{_("Department of %(user)s") % {'user': username} }}">
                <option value="">{{_("None")}}</option>
                % for value, label in choices['departments'].items():
                <option value="{{value}}" {{!'selected' if value == department else ''}}>{{label}}</option>
                % end
              </select>
              <button class="btn btn-ghost btn-sm" type="submit">{{_("Save")}}</button>
            </form>
          </td>
        </tr>
        % end
      </tbody>
    </table>
  </div>
</section>
