% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("E-mail")}}</h1>
  <p class="crumbs">{{_("The mail the box sends: voicemail with its recording, overdue-ticket alerts and reports. The server is set on the configuration page.")}} <a href="/config/mail">{{_("Mail settings")}}</a></p>
</div>
% if notice:
<p class="boxline" role="status">{{notice}}</p>
% end
% if error:
<p class="form-error" role="alert">{{error}}</p>
% end

<section class="panel">
  <h2>{{_("Send a test message")}}</h2>
  <form method="post" action="/mail/test" class="filters">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label class="field"><span>{{_("To")}}</span>
      <input name="to" type="email" value="{{to}}" maxlength="254" required></label>
    <div class="filter-buttons"><button class="btn btn-primary" type="submit">{{_("Send")}}</button></div>
  </form>
</section>

<section class="panel">
  <h2>{{_("Outbox")}}</h2>
  <div class="table-wrap">
    <table class="table">
      <thead><tr><th>{{_("Queued")}}</th><th>{{_("To")}}</th><th>{{_("Subject")}}</th><th>{{_("Attachments")}}</th>
        <th>{{_("State")}}</th><th>{{_("Tries")}}</th><th></th></tr></thead>
      <tbody>
      % for m in messages:
        <tr>
          <td class="nowrap">{{fmt.when(m['created_at'])}}</td>
          <td>{{", ".join(m['recipients'])}}</td>
          <td>{{m['subject']}}</td>
          <td>{{m['attachments']}}</td>
          <td>{{_(states.get(m['state'], m['state']))}}
            % if m['sent_at']:
            <br><small class="muted">{{fmt.when(m['sent_at'])}}</small>
            % elif m['last_error']:
            <br><small class="muted">{{m['last_error']}}</small>
            % end
          </td>
          <td>{{m['attempts']}}</td>
          <td>
            % if m['state'] in ('failed', 'unknown'):
            <form method="post" action="/mail/{{m['id']}}/send-again">
              <input type="hidden" name="csrf_token" value="{{csrf}}">
              <button class="btn btn-sm" type="submit">{{_("Send again")}}</button>
            </form>
            % end
          </td>
        </tr>
      % end
      % if not messages:
        <tr><td colspan="7" class="muted">{{_("No mail yet.")}}</td></tr>
      % end
      </tbody>
    </table>
  </div>
</section>
