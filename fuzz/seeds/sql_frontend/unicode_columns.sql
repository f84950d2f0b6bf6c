SELECT '中文', "é" FROM
	dwd_access WHERE ip = '😀'