% rebase('layout', main_class='page page-wide')
<div id="sms-page"
     data-msg-unreachable="{{_("The web server is not answering.")}}"
     data-msg-queued="{{_("Queued: the engine sends it as soon as the modem can.")}}"
     data-msg-confirm-resend="{{_("Send this text again? Check first that the customer did not get it: the box cannot know.")}}">
  <div class="page-head">
    <h1>{{_("Texts")}}</h1>
    <p class="crumbs">{{_("The GSM modem the box sends and receives texts with: surveys, notifications, satisfaction texts and callback requests.")}}</p>
  </div>

  <section class="panel" id="modem">
    <h2>{{_("Modem")}}</h2>
    % if status is None:
    <p class="form-error" role="alert">{{problem}}</p>
    % else:
    % m = status['modem']
    <div class="tiles">
      <div class="tile {{'is-ok' if m['connected'] else 'is-warn'}}"><div class="tile-label">{{_("Port")}}</div>
        <div class="tile-sub" title="{{status['port']}}">{{status['port']}}</div>
        <div class="tile-value"><small>{{_("connected") if m['connected'] else _("not connected")}}</small></div></div>
      <div class="tile {{'is-ok' if m['sim'] == 'ready' else 'is-warn'}}"><div class="tile-label">{{_("SIM")}}</div>
        <div class="tile-value"><small>{{_("ready") if m['sim'] == 'ready' else _("no SIM") if m['sim'] == 'absent' else m['sim']}}</small></div></div>
      <div class="tile {{'is-ok' if m['registration'] in ('home', 'roaming') else 'is-warn'}}"><div class="tile-label">{{_("Network")}}</div>
        <div class="tile-value"><small>{{m['operator'] or '—'}}</small></div>
        <div class="tile-sub">{{_(registrations.get(m['registration'], m['registration']))}}</div></div>
      <div class="tile"><div class="tile-label">{{_("Signal (dBm)")}}</div>
        <div class="tile-value">{{'—' if m['signal_dbm'] is None else m['signal_dbm']}}</div></div>
      % for state in ('queued', 'sent', 'delivered', 'failed', 'unknown'):
      <div class="tile {{'is-warn' if state in ('failed', 'unknown') and status['outbox'][state] else ''}}"><div class="tile-label">{{_(states[state])}}</div>
        <div class="tile-value">{{status['outbox'][state]}}</div></div>
      % end
    </div>
    % if m['error']:
    <p class="form-error">{{m['error']}}</p>
    % end
    % end
  </section>

  <section class="panel" id="send">
    <h2>{{_("Send a test text")}}</h2>
    <p class="form-error" id="sms-error" role="alert" hidden></p>
    <p class="boxline" id="sms-notice" role="status" hidden></p>
    <form id="sms-form" class="filters" novalidate>
      <label class="field field-sm"><span>{{_("Number")}}</span>
        <input name="number" type="tel" maxlength="{{max_number}}" required autocomplete="off"></label>
      <label class="field field-grow"><span>{{_("Text")}}</span>
        <input name="text" maxlength="{{max_text}}" required></label>
      <div class="filter-buttons"><button class="btn btn-primary" type="submit">{{_("Send")}}</button></div>
    </form>
  </section>

  <section class="panel" id="texts">
    <h2>{{_("Recent texts")}}</h2>
    <div class="table-wrap">
      <table class="table">
        <thead><tr><th>{{_("Time")}}</th><th>{{_("Direction")}}</th><th>{{_("Number")}}</th><th>{{_("Text")}}</th>
          <th>{{_("State")}}</th><th>{{_("Purpose")}}</th><th></th></tr></thead>
        <tbody>
        % for t in texts:
          <tr>
            <td class="nowrap">{{fmt.when(t['created_at'])}}</td>
            <td>{{_("in") if t['direction'] == 'in' else _("out")}}</td>
            <td class="nowrap">{{t['number']}}</td>
            <td>{{t['text']}}</td>
            <td>{{_(states.get(t['state'], t['state']))}}
              % if t['error']:
              <br><small class="muted">{{t['error']}}</small>
              % end
            </td>
            <td>{{t['purpose'] or ''}}</td>
            <td>
              % if t['direction'] == 'out' and t['state'] in ('failed', 'unknown'):
              <button class="btn btn-sm" type="button" data-resend="{{t['id']}}">{{_("Send again")}}</button>
              % end
            </td>
          </tr>
        % end
        % if not texts:
          <tr><td colspan="7" class="muted">{{_("No texts yet.")}}</td></tr>
        % end
        </tbody>
      </table>
    </div>
  </section>
</div>
