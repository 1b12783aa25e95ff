% # The report pages beyond the reports themselves (webui/reports/): staffing, the scheduled files and schedules.
<nav class="report-links" aria-label="{{_("Reports")}}">
  <a href="/reports">{{_("Reports")}}</a>
  <a href="/reports/staffing" class="{{'active' if here == 'staffing' else ''}}">{{_("Staffing")}}</a>
  <a href="/reports/files" class="{{'active' if here == 'files' else ''}}">{{_("Report files")}}</a>
  % if user_has('admin'):
  <a href="/reports/schedules" class="{{'active' if here == 'schedules' else ''}}">{{_("Report schedules")}}</a>
  % end
</nav>
