% rebase('layout', main_class='page')
<div class="page-head">
  <h1>{{_("Report files")}}</h1>
  <p class="muted">{{_("The daily and monthly reports this box writes by itself, kept for download.")}}</p>
</div>
% include('report_nav', here='files')
<section class="panel">
  <h2>{{_("Schedules")}}</h2>
  <ul class="schedule-states">
    % for s in schedules:
    <li><strong>{{_(schedule_names[s.name])}}</strong>:
      % if s.enabled:
      {{", ".join(_(reports[r].title) if r in reports else r for r in s.reports)}} ({{s.format}});
      {{_("last written: %(period)s") % {'period': s.last_period or '—'} }}
      % else:
      {{_("off")}}
      % end
      % if s.last_error:
      <span class="field-error" role="alert">{{_("Last problem: %(error)s") % {'error': s.last_error} }}</span>
      % end
    </li>
    % end
  </ul>
</section>
<section class="panel">
  <div class="table-wrap">
    <table class="table" id="report-files">
      <thead><tr>
        <th>{{_("Schedule")}}</th><th>{{_("Period")}}</th><th>{{_("File")}}</th>
        <th class="num">{{_("Size")}}</th><th>{{_("Written")}}</th>
      </tr></thead>
      <tbody>
        % for f in files:
        <tr>
          <td>{{_(schedule_names.get(f['schedule'], f['schedule']))}}</td>
          <td>{{f['period']}}</td>
          <td><a href="/reports/files/{{f['id']}}" download>{{f['filename']}}</a></td>
          <td class="num">{{fmt.number(round(f['size'] / 1024, 1))}} KiB</td>
          <td>{{fmt.when(f['created_at'])}}</td>
        </tr>
        % end
        % if not files:
        <tr class="empty"><td colspan="5">{{_("No report files yet: a schedule writes its first file after its first period ends.")}}</td></tr>
        % end
      </tbody>
    </table>
  </div>
</section>
