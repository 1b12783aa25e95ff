% def field_error(field):
  % if field in problems:
  <span class="field-error" id="{{field.replace('.', '-')}}-error">{{problems[field]}}</span>
  % end
% end
% def invalid(field):
  % return 'invalid' if field in problems else ''
% end
% if error:
<div class="form-error" role="alert" id="campaign-error">{{error}}</div>
% end
% if engine_down:
<p class="hint">{{_("The engine is not answering: queues and prompts are checked again when the campaign starts.")}}</p>
% end
<form method="post" action="{{action}}" class="card form-stack" id="campaign-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if campaign:
  <input type="hidden" name="version" value="{{campaign['version']}}">
  % end
  <fieldset {{!'' if editable else 'disabled'}}>
  <label class="field"><span>{{_("Name")}}</span>
    <input type="text" name="name" value="{{form.get('name', '')}}" maxlength="100" required class="{{invalid('name')}}"></label>
  % field_error('name')
  <label class="field"><span>{{_("Mode")}}</span>
    <select name="mode" class="{{invalid('mode')}}">
      % for value, label in labels['modes'].items():
      <option value="{{value}}" {{!'selected' if form.get('mode') == value else ''}}>{{label}}</option>
      % end
    </select></label>
  % field_error('mode')
  <label class="field"><span>{{_("Purpose")}}</span>
    <select name="purpose" class="{{invalid('purpose')}}">
      % for value, label in labels['purposes'].items():
      <option value="{{value}}" {{!'selected' if form.get('purpose') == value else ''}}>{{label}}</option>
      % end
    </select></label>
  % field_error('purpose')
  <label class="field"><span>{{_("Queue (whose agents take the calls)")}}</span>
    <select name="queue" class="{{invalid('queue')}}">
      <option value="">{{_("None")}}</option>
      % for q in sorted(set(queues) | ({form.get('queue')} - {None, ''})):
      <option value="{{q}}" {{!'selected' if form.get('queue') == q else ''}}>{{q}}</option>
      % end
    </select></label>
  % field_error('queue')
  <label class="field"><span>{{_("Recorded message (message mode)")}}</span>
    <select name="prompt" class="{{invalid('prompt')}}">
      <option value="">{{_("None")}}</option>
      % for p in sorted(set(prompts) | ({form.get('prompt')} - {None, ''})):
      <option value="{{p}}" {{!'selected' if form.get('prompt') == p else ''}}>{{p}}</option>
      % end
    </select></label>
  % field_error('prompt')
  <div class="form-row">
    <label class="field"><span>{{_("Key that confirms it was heard")}}</span>
      <input type="text" name="confirm_key" value="{{form.get('confirm_key', '')}}" maxlength="1" inputmode="tel" class="{{invalid('confirm_key')}}"></label>
    <label class="field"><span>{{_("Key that reaches an agent")}}</span>
      <input type="text" name="agent_key" value="{{form.get('agent_key', '')}}" maxlength="1" inputmode="tel" class="{{invalid('agent_key')}}"></label>
  </div>
  % field_error('confirm_key')
  % field_error('agent_key')
  <div class="form-row">
    <label class="field"><span>{{_("Survey question (a prompt)")}}</span>
      <select name="survey_prompt" class="{{invalid('survey_prompt')}}">
        <option value="">{{_("None")}}</option>
        % for p in sorted(set(prompts) | ({form.get('survey_prompt')} - {None, ''})):
        <option value="{{p}}" {{!'selected' if form.get('survey_prompt') == p else ''}}>{{p}}</option>
        % end
      </select></label>
    <label class="field"><span>{{_("Answer keys")}}</span>
      <input type="text" name="survey_keys" value="{{form.get('survey_keys', '')}}" maxlength="12" placeholder="12345" class="{{invalid('survey_keys')}}"></label>
  </div>
  % field_error('survey_prompt')
  % field_error('survey_keys')
  <fieldset class="field"><legend>{{_("Calling days")}}</legend>
    % for day, label in ((1, _("Mon")), (2, _("Tue")), (3, _("Wed")), (4, _("Thu")), (5, _("Fri")), (6, _("Sat")), (7, _("Sun"))):
    <label class="field-check"><input type="checkbox" name="days" value="{{day}}" {{!'checked' if str(day) in [str(d) for d in form.get('days', [])] else ''}}> {{label}}</label>
    % end
  </fieldset>
  % field_error('days')
  <div class="form-row">
    <label class="field"><span>{{_("Calls from")}}</span>
      <input type="time" name="start" value="{{form.get('start', '')}}" class="{{invalid('start')}}"></label>
    <label class="field"><span>{{_("until")}}</span>
      <input type="time" name="end" value="{{form.get('end', '')}}" class="{{invalid('end')}}"></label>
  </div>
  % field_error('start')
  % field_error('end')
  <label class="field"><span>{{_("Holidays (YYYY-MM-DD, separated by commas)")}}</span>
    <input type="text" name="holidays" value="{{form.get('holidays', '')}}" maxlength="800" class="{{invalid('holidays')}}"></label>
  % field_error('holidays')
  <label class="field field-check"><input type="checkbox" name="skip_holidays" value="1" {{!'checked' if form.get('skip_holidays') else ''}}> <span>{{_("No calls on the site schedule's holidays")}}</span></label>
  <div class="form-row">
    <label class="field"><span>{{_("Attempts per contact")}}</span>
      <input type="number" name="max_attempts" min="1" max="10" value="{{form.get('max_attempts', '')}}" class="{{invalid('max_attempts')}}"></label>
    <label class="field"><span>{{_("Lines at most")}}</span>
      <input type="number" name="max_lines" min="1" max="30" value="{{form.get('max_lines', '')}}" class="{{invalid('max_lines')}}"></label>
    <label class="field"><span>{{_("Pace (calls per free agent, or a minute)")}}</span>
      <input type="number" name="pace" min="0.1" max="30" step="0.1" value="{{form.get('pace', '')}}" class="{{invalid('pace')}}"></label>
  </div>
  % field_error('max_attempts')
  % field_error('max_lines')
  % field_error('pace')
  <fieldset class="field"><legend>{{_("Wait before another attempt (seconds), by outcome")}}</legend>
    <div class="form-row">
    % for outcome, label in labels['outcomes'].items():
    <label class="field"><span>{{label}}</span>
      <input type="number" name="retry_{{outcome}}" min="60" max="604800" value="{{form.get('retry', {}).get(outcome, '')}}" class="{{invalid('retry.' + outcome)}}"></label>
    % end
    </div>
  </fieldset>
  % field_error('retry')
  % for outcome in labels['outcomes']:
  % field_error('retry.' + outcome)
  % end
  <button class="btn btn-primary" type="submit">{{_("Save")}}</button>
  </fieldset>
</form>
