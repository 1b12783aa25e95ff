%# The fields of an endpoint, shared by the add form (webhooks.tpl) and the edit form (webhook.tpl).
<label class="field">
  <span>{{_("Receiver URL")}}</span>
  <input name="url" type="url" value="{{form.get('url') or ''}}" maxlength="2000" required spellcheck="false"
         placeholder="https://crm.example.com/hooks/branchline" class="{{'invalid' if 'url' in problems else ''}}">
  % if 'url' in problems:
  <span class="field-error" role="alert" id="error-url">{{problems['url']}}</span>
  % end
</label>
<fieldset class="field">
  <legend>{{_("Events")}}</legend>
  % for name, label in events.items():
  <label class="check"><input type="checkbox" name="events" value="{{name}}" {{!'checked' if name in (form.get('events') or []) else ''}}>
    <span class="mono">{{name}}</span> · {{_(label)}}</label>
  % end
  % if 'events' in problems:
  <span class="field-error" role="alert" id="error-events">{{problems['events']}}</span>
  % end
</fieldset>
<label class="field">
  <span>{{_("Description")}}</span>
  <input name="description" value="{{form.get('description') or ''}}" maxlength="200"
         class="{{'invalid' if 'description' in problems else ''}}">
  % if 'description' in problems:
  <span class="field-error" role="alert" id="error-description">{{problems['description']}}</span>
  % end
</label>
<label class="field">
  <span>{{_("Secret")}}</span>
  <input name="secret" value="" maxlength="256" autocomplete="off" spellcheck="false"
         class="{{'invalid' if 'secret' in problems else ''}}">
  <span class="hint">{{secret_hint}}</span>
  % if 'secret' in problems:
  <span class="field-error" role="alert" id="error-secret">{{problems['secret']}}</span>
  % end
</label>
