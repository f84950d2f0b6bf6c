SELECT cms_type('http://www.imooc.com/video/8701'), cms_id('http://www.imooc.com/code/1852'),
       is_internal_ip('10.100.0.1'), nginx_time('10/Nov/2016:00:01:02 +0800'),
       parse_access_log('1.2.3.4 - - [10/Nov/2016:00:01:02 +0800] "GET / HTTP/1.1" 200 1 "h" "-" - "ua" "-" - - - 0.000')['day'],
       access_log_error('x');
