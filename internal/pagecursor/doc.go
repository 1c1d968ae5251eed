// Package pagecursor is the cursor of queue.Admin.ListTasks that both of
// taskware's backends make and read: the set listed and the place of a
// page's last row (a position, then an ID), opaque and safe in a URL.
package pagecursor
