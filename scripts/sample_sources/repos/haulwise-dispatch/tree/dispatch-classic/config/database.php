<?php
return [
    'host' => getenv('DISPATCH_DB_HOST') ?: 'localhost',
    'database' => 'dispatch_prod',
    'username' => getenv('DISPATCH_DB_USER'),
    'password' => getenv('DISPATCH_DB_PASSWORD'),
];
