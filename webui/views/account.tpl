% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{_("Your account")}}</h1>
  <p class="crumbs">{{account['username']}} · {{", ".join(_(r) for r in account['roles'])}}
  % if account['agent_id']:
    · {{_("agent %(agent)s") % {"agent": account['agent_id']} }}
  % end
  </p>
</div>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if account['must_change_password']:
<p class="banner banner-warn" role="alert" id="must-change">{{_("An administrator has set a temporary password for you. Choose your own password to go on.")}}</p>
% end
<section class="card form-card" id="change-password">
  <h2>{{_("Change your password")}}</h2>
  <form method="post" action="/account/password" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field">
      <span>{{_("Current password")}}</span>
      <input type="password" name="current" autocomplete="current-password" required maxlength="256"
             class="{{'invalid' if 'current' in problems else ''}}">
      % if 'current' in problems:
      <span class="field-error" role="alert" id="error-current">{{problems['current']}}</span>
      % end
    </label>
    % include('password_fields', intro=_("Changing it ends your sessions in other browsers."), password_label=_("New password"))
    <button class="btn btn-primary" type="submit">{{_("Change password")}}</button>
  </form>
</section>
% if not account['must_change_password']:
<section class="card form-card" id="language">
  <h2>{{_("Language")}}</h2>
  <form method="post" action="/account/language" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field">
      <span>{{_("Language of the pages")}}</span>
      <select name="locale" class="{{'invalid' if 'locale' in problems else ''}}">
        <option value="" {{!'selected' if not account['locale'] else ''}}>{{_("The browser's language")}}</option>
        % for code, name in languages.items():
        <option value="{{code}}" {{!'selected' if account['locale'] == code else ''}}>{{name}}</option>
        % end
      </select>
      % if 'locale' in problems:
      <span class="field-error" role="alert" id="error-locale">{{problems['locale']}}</span>
      % end
    </label>
    <button class="btn btn-primary" type="submit">{{_("Save language")}}</button>
  </form>
</section>
% end
