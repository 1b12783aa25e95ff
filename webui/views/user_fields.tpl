% # The fields an admin sets on a user, shared by the create form (users.tpl) and the edit form (user.tpl).
% def err(name):
  % if name in problems:
  <span class="field-error" role="alert" id="error-{{name}}">{{problems[name]}}</span>
  % end
% end
<label class="field">
  <span>{{_("Display name")}}</span>
  <input name="display_name" value="{{form.get('display_name') or ''}}" maxlength="64"
         class="{{'invalid' if 'display_name' in problems else ''}}">
  % err('display_name')
</label>
<fieldset class="field checks">
  <legend>{{_("Roles")}}</legend>
  % for role in roles:
  <label class="check"><input type="checkbox" name="roles" value="{{role}}"
      {{!'checked' if role in (form.get('roles') or ()) else ''}}> {{_(role)}}</label>
  % end
  <span class="hint">{{_("Agents answer calls; supervisors watch and steer queues and agents; admins manage users and the box; technicians test lines. One user may hold several roles.")}}</span>
  % if get('last_admin'):
  <span class="hint" id="last-admin-roles">{{_("This is the only active administrator: the admin role stays until another user holds it.")}}</span>
  % end
  % err('roles')
</fieldset>
<label class="field">
  <span>{{_("Agent id")}}</span>
  <input name="agent_id" value="{{form.get('agent_id') or ''}}" maxlength="32" list="site-agents"
         class="{{'invalid' if 'agent_id' in problems else ''}}" autocomplete="off">
  % if agents:
  <datalist id="site-agents">
    % for agent_id, name in sorted(agents.items()):
    <option value="{{agent_id}}">{{name}}</option>
    % end
  </datalist>
  <span class="hint">{{_("Needed for the agent role: the agent of this box the user answers calls as.")}}
    {{_("Agents: %(agents)s.") % {"agents": ", ".join(k + (" (" + v + ")" if v else "") for k, v in sorted(agents.items()))} }}</span>
  % else:
  <span class="hint">{{_("Needed for the agent role. The engine is not answering, so the id cannot be checked against the box's agents now.")}}</span>
  % end
  % err('agent_id')
</label>
<label class="field">
  <span>{{_("Supervisor id")}}</span>
  <input name="supervisor_id" value="{{form.get('supervisor_id') or ''}}" maxlength="32" list="site-supervisors"
         class="{{'invalid' if 'supervisor_id' in problems else ''}}" autocomplete="off">
  % if supervisors is not None:
  <datalist id="site-supervisors">
    % for supervisor_id, name in sorted(supervisors.items()):
    <option value="{{supervisor_id}}">{{name}}</option>
    % end
  </datalist>
  <span class="hint">{{_("For a supervisor: the supervisor of this box the user listens in and steers agents as, from the wallboard; their station is rung.")}}
    {{_("Supervisors: %(supervisors)s.") % {"supervisors": ", ".join(k + (" (" + v + ")" if v else "") for k, v in sorted(supervisors.items())) or _("none")} }}</span>
  % else:
  <span class="hint">{{_("For a supervisor. The engine is not answering, so the id cannot be checked against the box's supervisors now.")}}</span>
  % end
  % err('supervisor_id')
</label>
<label class="field">
  <span>{{_("Language")}}</span>
  <select name="locale" class="{{'invalid' if 'locale' in problems else ''}}">
    <option value="" {{!'selected' if not form.get('locale') else ''}}>{{_("The browser's language")}}</option>
    % for code, name in languages.items():
    <option value="{{code}}" {{!'selected' if form.get('locale') == code else ''}}>{{name}}</option>
    % end
  </select>
  % err('locale')
</label>
