% # New password and its confirmation, with the policy stated: the user forms and the account page.
<p class="hint">{{intro}}</p>
<ul class="hint policy">
  % for rule in policy:
  <li>{{rule}}</li>
  % end
</ul>
<label class="field">
  <span>{{get('password_label', _("Password"))}}</span>
  <input type="password" name="password" autocomplete="new-password" required maxlength="256"
         class="{{'invalid' if 'password' in problems else ''}}">
  % if 'password' in problems:
  <span class="field-error" role="alert" id="error-password">{{problems['password']}}</span>
  % end
</label>
<label class="field">
  <span>{{_("Repeat the password")}}</span>
  <input type="password" name="confirm" autocomplete="new-password" required maxlength="256"
         class="{{'invalid' if 'confirm' in problems else ''}}">
  % if 'confirm' in problems:
  <span class="field-error" role="alert" id="error-confirm">{{problems['confirm']}}</span>
  % end
</label>
