% # The report pages beyond the report families (webui/reports/): staffing, the scheduled files, the schedules.
% # Inside the reports' sub-navigation (report.tpl), or as their own on these pages.
% if user_has('admin', 'supervisor'):
<a href="/reports/staffing" class="{{'active' if here == 'staffing' else ''}}" {{!'aria-current="page"' if here == 'staffing' else ''}}>{{_("Staffing")}}</a>
<a href="/reports/files" class="{{'active' if here == 'files' else ''}}" {{!'aria-current="page"' if here == 'files' else ''}}>{{_("Report files")}}</a>
% end
% if user_has('admin'):
<a href="/reports/schedules" class="{{'active' if here == 'schedules' else ''}}" {{!'aria-current="page"' if here == 'schedules' else ''}}>{{_("Report schedules")}}</a>
% end
