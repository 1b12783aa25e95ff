% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{_("User %(user)s") % {"user": account['username']} }}</h1>
  <p class="crumbs"><a href="/users">{{_("Users")}}</a> ·
    {{_("created %(when)s, changed %(changed)s") % {"when": fmt.when(account['created_at']), "changed": fmt.when(account['updated_at'])} }}</p>
</div>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if problems:
<p class="form-error" role="alert">{{_("Nothing was changed: see the fields marked below.")}}</p>
% end
<section class="card form-card">
  <h2>{{_("Account")}}</h2>
  <form method="post" action="/users/{{account['username']}}" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('user_fields')
    <div class="field">
      <label class="check"><input type="checkbox" name="disabled" value="1" {{!'checked' if form.get('disabled') else ''}}>
        {{_("Disabled: cannot sign in, and every session ends at once")}}</label>
      % if last_admin:
      <span class="hint" id="last-admin-disabled">{{_("This is the only active administrator: the account stays enabled until another user holds the admin role.")}}</span>
      % end
      % if 'disabled' in problems:
      <span class="field-error" role="alert" id="error-disabled">{{problems['disabled']}}</span>
      % end
    </div>
    <button class="btn btn-primary" type="submit">{{_("Save changes")}}</button>
  </form>
</section>
<section class="card form-card" id="reset-password">
  <h2>{{_("Reset password")}}</h2>
  <form method="post" action="/users/{{account['username']}}/password" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('password_fields', intro=_("Sets a temporary password and ends the user's sessions; they must choose their own at their next sign-in."), password_label=_("Temporary password"))
    <button class="btn btn-warn" type="submit">{{_("Reset password")}}</button>
  </form>
</section>
