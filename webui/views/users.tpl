% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Users")}}</h1>
  <p class="crumbs">{{_("Everyone who signs in to this box, with their roles. Disabled users cannot sign in; their sessions end at once.")}}</p>
</div>
<section class="panel">
  <h2>{{_("Users")}} <span class="count">{{len(users)}}</span></h2>
  <div class="table-wrap">
    <table class="table" id="users">
      <thead><tr><th>{{_("Username")}}</th><th>{{_("Display name")}}</th><th>{{_("Roles")}}</th>
        <th>{{_("Agent id")}}</th><th>{{_("Supervisor id")}}</th><th>{{_("Language")}}</th><th>{{_("Status")}}</th><th>{{_("Changed")}}</th></tr></thead>
      <tbody>
      % for account in users:
        <tr data-key="{{account['username']}}">
          <td><a href="/users/{{account['username']}}">{{account['username']}}</a></td>
          <td>{{account['display_name'] or fmt.NONE}}</td>
          <td>{{", ".join(_(r) for r in account['roles'])}}</td>
          <td class="mono">{{account['agent_id'] or fmt.NONE}}</td>
          <td class="mono">{{account['supervisor_id'] or fmt.NONE}}</td>
          <td>{{account['locale'] or _("browser")}}</td>
          <td>
            % if account['disabled']:
            <span class="st st-logged_out">{{_("disabled")}}</span>
            % elif account['must_change_password']:
            <span class="st st-not_ready">{{_("must change password")}}</span>
            % else:
            <span class="st st-ready">{{_("active")}}</span>
            % end
          </td>
          <td class="nowrap">{{fmt.when(account['updated_at'])}}</td>
        </tr>
      % end
      </tbody>
    </table>
  </div>
</section>

<section class="card form-card" id="new-user">
  <h2>{{_("Add a user")}}</h2>
  % if problems:
  <p class="form-error" role="alert">{{_("The user was not created: see the fields marked below.")}}</p>
  % end
  <form method="post" action="/users" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field">
      <span>{{_("Username")}}</span>
      <input name="username" value="{{form.get('username') or ''}}" maxlength="32" autocapitalize="none"
             spellcheck="false" required class="{{'invalid' if 'username' in problems else ''}}">
      <span class="hint">{{_("3 to 32 characters: letters, digits, dot, dash or underscore. It cannot be changed later.")}}</span>
      % if 'username' in problems:
      <span class="field-error" role="alert" id="error-username">{{problems['username']}}</span>
      % end
    </label>
    % include('user_fields')
    % include('password_fields', intro=_("A temporary password: the user must choose their own at their first sign-in."))
    <button class="btn btn-primary" type="submit">{{_("Create user")}}</button>
  </form>
</section>
