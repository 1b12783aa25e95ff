% # A card's fields, shared by the new-customer form (customer_new.tpl) and the card's edit form (customer.tpl).
% def err(name):
  % if name in problems:
  <span class="field-error" role="alert" id="error-{{name}}">{{problems[name]}}</span>
  % end
% end
% def cls(name):
%   return 'invalid' if name in problems else ''
% end
<label class="field">
  <span>{{_(labels['name'])}}</span>
  <input name="name" value="{{form.get('name') or ''}}" maxlength="100" required class="{{cls('name')}}">
  % err('name')
</label>
<label class="field">
  <span>{{_(labels['numbers'])}}</span>
  <textarea name="numbers" rows="3" inputmode="tel" class="{{cls('numbers')}}">{{form.get('numbers') or ''}}</textarea>
  <span class="hint">{{_("One number a line, as dialled here (021-6123 4567, 13800138000) or with + and the country code. The box matches the caller's number to any of them.")}}</span>
  % err('numbers')
</label>
<label class="field">
  <span>{{_(labels['company'])}}</span>
  <input name="company" value="{{form.get('company') or ''}}" maxlength="100" class="{{cls('company')}}">
  % err('company')
</label>
<label class="field">
  <span>{{_(labels['address'])}}</span>
  <input name="address" value="{{form.get('address') or ''}}" maxlength="200" class="{{cls('address')}}">
  % err('address')
</label>
<div class="form-row">
  % for date_field in ('warranty_until', 'service_due'):
  <label class="field field-sm">
    <span>{{_(labels[date_field])}}</span>
    <input name="{{date_field}}" type="date" value="{{form.get(date_field) or ''}}" class="{{cls(date_field)}}">
    % err(date_field)
  </label>
  % end
</div>
% if may_route:
<label class="field field-sm">
  <span>{{_(labels['vip'])}}</span>
  <input name="vip" type="number" min="0" max="{{max_vip}}" value="{{form.get('vip') or 0}}" class="{{cls('vip')}}">
  <span class="hint">{{_("0 is ordinary; a higher level is answered sooner.")}}</span>
  % err('vip')
</label>
<label class="field field-sm">
  <span>{{_(labels['agent_id'])}}</span>
  <input name="agent_id" value="{{form.get('agent_id') or ''}}" maxlength="32" list="site-agents" autocomplete="off"
         class="{{cls('agent_id')}}">
  % if agents:
  <datalist id="site-agents">
    % for agent_id, name in sorted(agents.items()):
    <option value="{{agent_id}}">{{name}}</option>
    % end
  </datalist>
  % end
  <span class="hint">{{_("Rung first when this customer calls; empty for none.")}}</span>
  % err('agent_id')
</label>
<label class="check"><input type="checkbox" name="blocked" value="1" {{!'checked' if form.get('blocked') else ''}}>
  {{_("Blocked: the flow turns this caller away")}}</label>
% err('blocked')
% else:
<p class="hint">{{_("VIP level, dedicated agent and blocking are set by supervisors and administrators.")}}</p>
% end
<label class="field">
  <span>{{_(labels['notes'])}}</span>
  <textarea name="notes" rows="4" maxlength="2000" class="{{cls('notes')}}">{{form.get('notes') or ''}}</textarea>
  % err('notes')
</label>
